import type { AnyModelRole, RunModels } from '@autolab/contracts';
import type { Llm, ToolCallRequest, ToolCallResult } from '@autolab/engine';

/**
 * A run's `Llm` when its roles name different models: each call goes to the client of its role's model (one client
 * per model, so each keeps its own mode, completion limit and endpoint). A role without a model (vision when none is
 * configured) is a programming error: the engine asks it only when the run has one.
 */
export class ModelRouter implements Llm {
  private readonly clients = new Map<string, Llm>();

  constructor(
    private readonly models: RunModels,
    private readonly clientFor: (model: string) => Llm,
  ) {}

  modelOf(role: AnyModelRole): string {
    const model = this.models[role];
    if (!model) throw new Error(`the run has no ${role} model`);
    return model;
  }

  callTool(request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallResult> {
    const model = request.model ?? this.modelOf(request.role);
    let client = this.clients.get(model);
    if (!client) {
      client = this.clientFor(model);
      this.clients.set(model, client);
    }
    return client.callTool(request, signal);
  }
}
