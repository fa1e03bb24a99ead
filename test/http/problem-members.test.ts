// RFC 9457 members of a problem are the hub's own: an error's extensions cannot replace status, type, title, code.
import { describe, expect, it } from 'vitest';
import { toProblem } from '../../hub/http/problem.ts';
import { HubError } from '../../hub/errors.ts';

describe('problem details', () => {
  it('keeps status, type, title and code when an error carries extensions of the same names', () => {
    const error = new HubError(409, 'command-not-cancellable', 'The command is already sent', {
      extensions: { status: 'SENT', code: 'x', title: 't', type: 'y', other: 1 },
    });
    const { problem } = toProblem(error, 'http://hub.example');
    expect(problem.status).toBe(409);
    expect(problem.code).toBe('command-not-cancellable');
    expect(problem.type).toBe('http://hub.example/problems/command-not-cancellable');
    expect(problem.title).not.toBe('t');
    expect((problem as unknown as Record<string, unknown>).other).toBe(1);
  });
});
