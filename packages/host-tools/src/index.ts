export { TOOLS, CNI_PLUGINS, DEFAULT_CNI_DIRS, which, findTool, cniPluginDirs, findCniPlugin, hostEnv, setHostEnv } from './find-tool';
export type { ToolName, CniPlugin } from './find-tool';
