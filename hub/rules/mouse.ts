// The fog paper's closed loop as a rule: the 3D mouse (NGIMU over OSC, BNO055 over MQTT) fused into a position [r, theta, phi] that drives a ur-robot's tool with movel; the MQTT channel takes over while OSC is silent.

export interface MouseRuleOptions {
  imu: string;
  bno: string;
  robot: string;
  domain?: string;
  /** OSC silence (ms) after which the BNO055 over MQTT drives the robot. */
  failoverMs?: number;
}

/**
 * The rule definition. Position: r = 0.5 m + roll / 100 (m per degree), theta = 45 deg + pitch (polar angle),
 * phi = yaw (NGIMU) or heading (BNO055); tool pose = the spherical point above a 0.2 m offset, pointing down.
 * Triggers: the NGIMU's yaw (primary) and the BNO055's heading; the condition lets the BNO055 drive only when the
 * NGIMU's last message is older than failoverMs.
 */
export function mouseRule(o: MouseRuleOptions): Record<string, unknown> {
  const failover = o.failoverMs ?? 200;
  return {
    title: '3D mouse drives the robot',
    description: `NGIMU (OSC) + BNO055 (MQTT) -> [r, theta, phi] -> movel; MQTT takes over after ${failover} ms without OSC`,
    domain: o.domain ?? 'default',
    things: { imu: o.imu, bno: o.bno, robot: o.robot },
    triggers: [
      { thing: 'imu', property: 'yaw' },
      { thing: 'bno', property: 'heading' },
    ],
    condition: `trigger.thing = "imu" or $not($exists($ageMs("imu"))) or $ageMs("imu") > ${failover}`,
    actions: [
      { write: 'source', value: 'trigger.thing' },
      {
        write: 'position',
        value: '($s := trigger.thing; [$clamp(0.5 + $prop($s, "roll") / 100, 0.3, 0.65), $clamp(45 + $prop($s, "pitch"), 10, 80), $s = "imu" ? $prop("imu", "yaw") : $prop("bno", "heading")])',
      },
      {
        invoke: 'movel',
        thing: 'robot',
        input:
          '($r := outputs.position[0]; $t := $radians(outputs.position[1]); $p := $radians(outputs.position[2]); {"pose": [$round($r * $sin($t) * $cos($p), 6), $round($r * $sin($t) * $sin($p), 6), $round(0.2 + $r * $cos($t), 6), 0, 3.14159, 0], "velocity": 1, "acceleration": 5})',
      },
    ],
  };
}

/** The tool pose the rule commands for a mouse orientation (degrees), as the rule computes it (tests, benchmarks). */
export function mousePose(roll: number, pitch: number, yaw: number): number[] {
  const r = Math.min(0.65, Math.max(0.3, 0.5 + roll / 100));
  const t = (Math.min(80, Math.max(10, 45 + pitch)) * Math.PI) / 180;
  const p = (yaw * Math.PI) / 180;
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return [round(r * Math.sin(t) * Math.cos(p)), round(r * Math.sin(t) * Math.sin(p)), round(0.2 + r * Math.cos(t)), 0, 3.14159, 0];
}
