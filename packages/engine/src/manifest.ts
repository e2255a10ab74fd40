import { bestNode } from './journal.js';
import type { RunContext } from './run-context.js';
import { startingCodeGain } from './starting-code-gain.js';

/**
 * The reproducibility bundle's index: what ran, where, with which model, parameters, seeds and images, and a
 * one-command way to re-run the best program in the same sandbox image.
 */
export async function writeManifest(ctx: RunContext): Promise<void> {
  const { state, input } = ctx;
  const plan = state.plan!;
  const best = bestNode(state.nodes, plan.metric.direction);
  const manifest = {
    runId: input.runId,
    goal: input.goal,
    model: input.models.code,
    models: input.models,
    // How each model was asked for its tool calls: tools, json or text (AUTOLAB_MODEL_MODE; auto finds it out).
    // `modelMode` is the code model's.
    modelMode: ctx.modelModes[input.models.code] ?? null,
    modelModes: ctx.modelModes,
    parameters: {
      maxIterations: input.maxIterations,
      budgetUsd: input.budgetUsd,
      timeLimitMinutes: input.timeLimitMinutes,
      sandbox: input.sandbox,
      policy: input.policy,
    },
    idea: state.ideation
      ? { chosen: state.ideation.ideas[state.ideation.chosen]?.title, reason: state.ideation.reason }
      : null,
    plan,
    sandboxImage: state.sandboxImage,
    seedVariable: 'SEED',
    seeds: state.seeds,
    best: best ? { nodeId: best.id, metric: plan.metric.name, value: best.primary, code: 'best/experiment.py' } : null,
    startingCode: startingCodeGain(plan, state.nodes, state.startingCodeNodeId, ctx.input.template?.name ?? null),
    experiments: state.nodes.map((n) => ({
      id: n.id,
      parent: n.parentId,
      stage: n.stage,
      operator: n.operator,
      buggy: n.buggy,
      primary: n.primary,
      code: `nodes/${n.id}/experiment.py`,
    })),
    lostExperiments: state.lostNodes.map((n) => ({ id: n.id, stage: n.stage, operator: n.operator, reason: n.reason })),
    // Lessons of the lab's earlier runs that went into this run's prompts (docs/lessons.md).
    lessonsApplied: state.lessons.applied,
    usage: state.usage,
    files: {
      paper: 'paper/paper.pdf',
      claims: 'paper/claims.json',
      review: state.reviewDone ? 'review.json' : null,
      transcript: 'transcript.jsonl',
    },
  };
  await ctx.sink.saveArtifact('manifest.json', JSON.stringify(manifest, null, 2));
  if (!best) return;
  const image = state.sandboxImage || 'autolab-python:latest';
  await ctx.sink.saveArtifact(
    'best/reproduce.sh',
    `#!/bin/sh
# Re-runs the best experiment of ${input.runId} (${best.id}) in the sandbox image it ran in, with the same limits
# and no network. Usage: sh reproduce.sh [SEED]   (run it in this directory; results.json appears here).
set -e
IMAGE="\${AUTOLAB_PYTHON_IMAGE:-${image}}"
docker run --rm --network none --read-only --tmpfs /tmp:rw,size=256m \\
  --user "$(id -u):$(id -g)" --cap-drop ALL --security-opt no-new-privileges \\
  --memory ${input.sandbox.memoryMb}m --memory-swap ${input.sandbox.memoryMb}m --cpus ${input.sandbox.cpus} --pids-limit 256 \\
  -e SEED="\${1:-0}" -v "$(pwd)":/workspace -w /workspace "$IMAGE" python3 experiment.py
`,
  );
}
