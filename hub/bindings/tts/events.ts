// The Things Stack v3 messages other than uplinks (join_accept, downlink_ack/nack/sent/failed/queued, location_solved,
// service_data, uplink_normalized) as event details: ApplicationUp.yml, data-formats/_index.md.
import { base64Bytes, compact, optArray, optBoolean, optInstant, optLocation, optNumber, optObject, optString, UINT32_MAX, type Json } from './fields.ts';

function downlinkDetails(value: unknown, field: string): Record<string, unknown> {
  const d = optObject(value, field) ?? {};
  const ids = optArray(d.correlation_ids, `${field}.correlation_ids`, 64) ?? [];
  return compact({
    fPort: optNumber(d.f_port, `${field}.f_port`, { integer: true, min: 0, max: 255 }) ?? 0,
    fCnt: optNumber(d.f_cnt, `${field}.f_cnt`, { integer: true, min: 0, max: UINT32_MAX }) ?? 0,
    confirmed: optBoolean(d.confirmed, `${field}.confirmed`) ?? false,
    priority: optString(d.priority, `${field}.priority`, 32) ?? 'LOWEST',
    bytes: base64Bytes(d.frm_payload, `${field}.frm_payload`),
    decoded: optObject(d.decoded_payload, `${field}.decoded_payload`),
    sessionKeyId: optString(d.session_key_id, `${field}.session_key_id`, 128),
    correlationIds: ids.map((c, i) => optString(c, `${field}.correlation_ids[${i}]`, 256)!),
  });
}

/** The details of a non-uplink ApplicationUp member (join_accept, downlink_*, location_solved, service_data, ...). */
export function eventDetails(member: string, msg: Json): Record<string, unknown> {
  const field = member;
  const body = optObject(msg[member], field) ?? {};
  switch (member) {
    case 'join_accept':
      return compact({
        sessionKeyId: optString(body.session_key_id, `${field}.session_key_id`, 128),
        receivedAt: optInstant(body.received_at, `${field}.received_at`)?.text,
      });
    case 'downlink_failed': {
      const error = optObject(body.error, `${field}.error`) ?? {};
      return {
        downlink: downlinkDetails(body.downlink, `${field}.downlink`),
        error: compact({
          namespace: optString(error.namespace, `${field}.error.namespace`),
          name: optString(error.name, `${field}.error.name`),
          message: optString(error.message_format, `${field}.error.message_format`),
          code: optNumber(error.code, `${field}.error.code`, { integer: true, min: 0 }) ?? 0,
          correlationId: optString(error.correlation_id, `${field}.error.correlation_id`),
        }),
      };
    }
    case 'location_solved': {
      const loc = optLocation(body.location, `${field}.location`);
      return compact({ service: optString(body.service, `${field}.service`), ...(loc ?? {}) });
    }
    case 'service_data':
      return compact({ service: optString(body.service, `${field}.service`), data: optObject(body.data, `${field}.data`) });
    case 'uplink_normalized':
      return compact({ fCnt: optNumber(body.f_cnt, `${field}.f_cnt`, { integer: true, min: 0, max: UINT32_MAX }) ?? 0 });
    default:
      return downlinkDetails(body, field); // downlink_ack | nack | sent | queued | queue_invalidated share a layout
  }
}
