// The rule Things' downlink adapter (push, continuous): their enable/disable actions go through the command queue like any action and are DELIVERED once the engine applied them.
import { HubError } from '../errors.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../downlink/types.ts';
import type { RuleEngine } from './engine.ts';

export function ruleAdapter(engine: () => RuleEngine | undefined, evidence: (c: CommandRecord, s: CommandStatus, e: string) => Promise<void>, onError: (e: unknown, ctx: string) => void = () => {}): DownlinkAdapter {
  return {
    binding: 'rule',
    mode: 'push',
    serves: (route: DownlinkRoute) => route.keyType === 'rule',
    async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
      const e = engine();
      if (!e) throw new HubError(503, 'rules-unavailable', 'The rule engine is not running');
      if (command.action !== 'enable' && command.action !== 'disable') throw new HubError(400, 'unknown-rule-action', `A rule has no action '${command.action.slice(0, 64)}'`);
      await e.setEnabled(route.deviceKey, command.action === 'enable');
      // After SENT is recorded (the queue marks it when send returns): applied, so DELIVERED.
      setImmediate(() => evidence(command, 'DELIVERED', `rule engine: rule ${route.deviceKey} ${command.action}d`).catch((err) => onError(err, 'rule command evidence')));
      return { evidence: `rule engine: ${command.action} rule ${route.deviceKey}` };
    },
  };
}
