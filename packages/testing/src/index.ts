export { callAsText, DIALECTS, type Dialect, isDialect, nearJson } from './dialects.js';
export {
  type FakeLiteratureRequest,
  type FakeLiteratureServer,
  type FakeLiteratureServerOptions,
  startFakeLiteratureServer,
} from './fake-literature-server.js';
export {
  BUILTIN_SCENARIOS_DIR,
  FAULTS,
  type Fault,
  loadScenario,
  type Scenario,
  ScenarioError,
  ScenarioFile,
  type ScenarioReply,
} from './scenario-file.js';
export {
  type EmbeddingsCall,
  RUN_KEY_HEADER,
  type ScriptedCall,
  type ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from './scripted-openai-server.js';
