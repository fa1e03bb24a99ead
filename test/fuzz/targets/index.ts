// Every fuzz target; a new parser of outside input (a protocol codec, say) adds one file in this folder and one line here.
import type { FuzzTarget } from '../target.ts';
import { coapTarget } from './coap.ts';
import { jsonpathMappingTarget, jsonpathSearchTarget } from './jsonpath.ts';
import { ldpHeadersTarget } from './ldp-headers.ts';
import { mapfileTurtleTarget, mapfileYarrrmlTarget } from './mapfile.ts';
import { mergePatchTarget } from './merge-patch.ts';
import { n3PatchTarget } from './n3-patch.ts';
import { ldpSparqlPatchTarget, sparqlSearchTarget, sparqlTarget } from './sparql.ts';
import { schcRulesTarget, schcTarget } from './schc.ts';
import { storeLogTarget } from './store-log.ts';
import { tdTarget } from './td.ts';
import { mqttTarget } from './mqtt.ts';
import { ttsTarget } from './tts.ts';
import { chirpstackTarget } from './chirpstack.ts';
import { sigfoxTarget } from './sigfox.ts';
import { rulesTarget } from './rules.ts';
import { lorawanPhyTarget } from './lorawan.ts';
import { lorawanDownlinkTarget } from './lorawan-downlink.ts';
import { semtechUdpTarget } from './semtech-udp.ts';
import { cayenneTarget } from './cayenne.ts';
import { lwm2mTarget, senmlCborTarget, senmlJsonTarget } from './senml.ts';
import { aggregatesCheckpointTarget, aggregatesQueryTarget, aggregatesScanTarget } from './aggregates.ts';
import { aggregatesFilesTarget } from './aggregates-files.ts';
import { deviceIndexTarget } from './device-index.ts';
import { downlinkTarget } from './downlink.ts';
import { oscTarget } from './osc.ts';
import { outboxLogTarget } from './outbox-log.ts';
import { obdTarget } from './obd.ts';
import { cookieTarget } from './cookie.ts';
import { deviceRepliesTarget } from './device-replies.ts';
import { uiTarget } from './ui.ts';
import { virtualTarget } from './virtual.ts';

export const TARGETS: readonly FuzzTarget[] = [
  tdTarget,
  mergePatchTarget,
  mapfileTurtleTarget,
  mapfileYarrrmlTarget,
  sparqlTarget,
  sparqlSearchTarget,
  jsonpathSearchTarget,
  jsonpathMappingTarget,
  n3PatchTarget,
  ldpSparqlPatchTarget,
  ldpHeadersTarget,
  coapTarget,
  mqttTarget,
  storeLogTarget,
  schcTarget, schcRulesTarget,
  ttsTarget, chirpstackTarget, sigfoxTarget,
  lorawanPhyTarget, lorawanDownlinkTarget, semtechUdpTarget, cayenneTarget, senmlJsonTarget, senmlCborTarget, lwm2mTarget,
  aggregatesQueryTarget, aggregatesScanTarget, aggregatesCheckpointTarget, aggregatesFilesTarget,
  deviceIndexTarget,
  downlinkTarget,
  oscTarget,
  outboxLogTarget,
  obdTarget,
  cookieTarget, deviceRepliesTarget,
  uiTarget,
  virtualTarget,
  rulesTarget,
];
