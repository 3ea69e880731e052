export { parsePublish, publishAll, portKey, formatBinding } from './publish';
export type { PortSpec, PortBinding, Protocol } from './publish';
export { allocatePorts, portAllocated, sameHostPort } from './ports';
export { parseCidr, formatCidr, overlaps, hostRoutes, chooseSubnet, DEFAULT_SUBNETS } from './subnet';
export type { Cidr } from './subnet';
export {
  ensureNetwork, removeNetwork, readNetwork, leases, bridgeConfig, runDirOf, ipamDir,
  DEFAULT_RUN_DIR, NETWORK_NAME, BRIDGE_NAME, FORWARD_CHAIN, NAT_CHAIN, DNAT_CHAIN,
} from './bridge';
export type { BridgeNetwork, NetworkOptions } from './bridge';
export { attach, detach, handOff, attachedIds, attachmentOf } from './attach';
export type { NetworkAttachment, ProcessRef } from './attach';
export { portRules, addPortRules, removePortRules, forgetUdpFlows } from './port-rules';
export { runPlugin } from './cni';
export type { CniResult, PluginCall } from './cni';
export { hostsFile, resolvConf } from './etc-files';
