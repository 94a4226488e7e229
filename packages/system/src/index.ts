export { ManagedProcess } from "./process.js";
export type { ManagedProcessOptions, ProcessExit, StopResult } from "./process.js";
export { SERVICE_NODE_OPTIONS, System } from "./system.js";
export type { SandboxOptions, StoppedProcess, SystemOptions } from "./system.js";
export { platformEnv, usesRealApi } from "./real-api.js";
export { demoEnv, demoSources } from "./demo.js";
