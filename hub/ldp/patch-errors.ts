// The error of a PATCH document that is well-formed but not a usable patch (422, Solid Protocol §5.3.1 / RFC 5789 §2.2).
import { HubError } from '../errors.ts';

/** 422: a well-formed document that is not a usable patch. */
export class UnprocessablePatchError extends HubError {
  override name = 'UnprocessablePatchError';
  constructor(message: string) {
    super(422, 'invalid-patch', message);
  }
}
