import type { RunRecord } from '@autolab/contracts';
import { EVOLVE_ARTIFACTS } from '@autolab/contracts/evolve-artifacts';
import { useMemo, useState } from 'react';
import { useEvolveView } from '../hooks/useEvolveView.js';
import { useRunRecord } from '../hooks/useRunRecord.js';
import { useRunStream } from '../hooks/useRunStream.js';
import { outcomeCounts } from '../lib/evolve.js';
import { metricName, nodeOutcomes, type RunModel, recordedMetrics } from '../lib/run-model.js';
import { CancelButton } from './CancelButton.js';
import { CandidateDetail } from './CandidateDetail.js';
import { Card } from './Card.js';
import { Downloads } from './Downloads.js';
import { EventLog } from './EventLog.js';
import { EvolveModels } from './EvolveModels.js';
import { EvolveRecommendations } from './EvolveRecommendations.js';
import { ExperimentTree } from './ExperimentTree.js';
import { FigureGallery } from './FigureGallery.js';
import { HintBox } from './HintBox.js';
import { IdeasPanel } from './IdeasPanel.js';
import { InsightsPanel } from './InsightsPanel.js';
import { LineageTree } from './LineageTree.js';
import { MetricChart } from './MetricChart.js';
import { NodeDetail } from './NodeDetail.js';
import { PaperViewer } from './PaperViewer.js';
import { PlanSummary } from './PlanSummary.js';
import { PopulationChart } from './PopulationChart.js';
import { ProblemNote } from './ProblemNote.js';
import { RerunControl } from './RerunControl.js';
import { ReviewPanel } from './ReviewPanel.js';
import { RunHeader } from './RunHeader.js';
import { RunLessons } from './RunLessons.js';
import { RunModelCalls } from './RunModelCalls.js';
import { RunStats } from './RunStats.js';
import { SeedsPanel } from './SeedsPanel.js';
import { EVOLVE_STAGES, StageStepper } from './StageStepper.js';
import { TreeLegend } from './TreeLegend.js';

/** What makes the run record worth refetching: stage changes, finished nodes, the end. */
const recordTrigger = (model: RunModel) =>
  `${model.stage}|${model.experimentStage}|${model.stagesDone.length}|${model.nodes.size}|${
    [...model.nodes.values()].filter((n) => n.status !== 'running').length
  }|${model.status}|${model.review ? 1 : 0}`;

/** One run, live: progress, the experiment tree, the metric, the log, figures, the paper and downloads. */
export function RunPage({ runId }: { runId: string }) {
  const { model, version, state, detail, restart } = useRunStream(runId);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the model is mutated in place; version says it changed
  const trigger = useMemo(() => recordTrigger(model), [model, version]);
  const { run, problem, reload } = useRunRecord(runId, trigger);
  const [selectedId, setSelectedId] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  const nodes = useMemo(() => [...model.nodes.values()], [model, version]);
  const metric = metricName(model) ?? run?.bestMetric?.name ?? null;
  const modelCalls = model.usage?.calls ?? run?.usage.calls ?? 0;
  const direction = model.plan?.metric.direction ?? run?.bestMetric?.direction ?? 'maximize';
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  const outcomes = useMemo(() => nodeOutcomes(model), [model, version]);
  const metrics = useMemo(() => recordedMetrics(outcomes, metric), [outcomes, metric]);
  const primary = useMemo(() => (metric ? { name: metric, direction } : null), [metric, direction]);
  const bestNodeId = run?.bestMetric?.nodeId ?? model.bestNodeId;
  const status: RunRecord['status'] = model.finished?.status ?? run?.status ?? model.status ?? 'queued';
  const live = status === 'queued' || status === 'running';
  const stage = model.finished
    ? status === 'succeeded'
      ? 'done'
      : (run?.stage ?? model.stage)
    : (model.stage ?? run?.stage ?? null);
  const experimentStage = model.experimentStage ?? run?.experimentStage ?? null;
  const selected = selectedId ? model.nodes.get(selectedId) : undefined;
  const searchStage = model.searchStages.at(-1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  const isEvolve = useMemo(
    () => run?.mode === 'evolve' || model.events.some((e) => e.type.startsWith('candidate.')),
    [run?.mode, model, version],
  );
  const evolve = useEvolveView(runId, model, version, isEvolve);
  const candidate = evolve && selectedId ? evolve.candidates.find((c) => c.id === selectedId) : undefined;
  const bestCandidate = evolve?.best ? evolve.candidates.find((c) => c.id === evolve.best) : undefined;
  // An evolve run writes a report, not a paper.
  const paperReady = !evolve && (model.paper !== null || (status === 'succeeded' && run?.stage === 'done'));
  const evolveProgram = evolve?.program ?? run?.policy.evolve?.program ?? null;

  if (problem && !run && (problem.status === 404 || problem.status === 401 || problem.status === 403)) {
    return <ProblemNote problem={problem} />;
  }
  return (
    <div className="run-page" data-run-id={runId} data-status={status}>
      <RunHeader
        runId={runId}
        run={run}
        status={status}
        stream={state}
        streamDetail={detail}
        actions={
          live ? (
            <CancelButton runId={runId} onDone={() => void reload()} />
          ) : run ? (
            <RerunControl
              runId={runId}
              onDone={() => {
                restart();
                void reload();
              }}
            />
          ) : null
        }
      />
      <div className="card progress-card">
        <StageStepper
          stage={stage}
          experimentStage={experimentStage}
          failed={status === 'failed' || status === 'cancelled'}
          {...(evolve ? { stages: EVOLVE_STAGES } : {})}
        />
        <RunStats
          run={run}
          model={model}
          evolve={
            evolve && {
              generation: evolve.generation,
              generations: run?.policy.evolve?.generations ?? null,
              best: bestCandidate ? { id: bestCandidate.id, score: bestCandidate.score } : null,
              direction: evolve.direction,
            }
          }
        />
      </div>
      {problem && run && <ProblemNote problem={problem} />}
      <div className="run-grid">
        <div className="run-main">
          {evolve ? (
            <>
              <Card
                title={`Population · ${evolve.candidates.length} candidate${evolve.candidates.length === 1 ? '' : 's'}`}
                testId="population-card"
              >
                <PopulationSummary counts={outcomeCounts(evolve.candidates)} generation={evolve.generation} />
                <PopulationChart view={evolve} onSelect={setSelectedId} />
              </Card>
              <Card title="Lineage of the best program" actions={<TreeLegend />} testId="lineage-card">
                <LineageTree
                  view={evolve}
                  selectedId={selectedId}
                  onSelect={(id) => setSelectedId((current) => (current === id ? null : id))}
                />
                {!candidate && evolve.candidates.length > 0 && (
                  <p className="faint small">Click a candidate to see its change, score, error and diff.</p>
                )}
              </Card>
              {candidate && (
                <CandidateDetail
                  key={candidate.id}
                  runId={runId}
                  candidate={candidate}
                  best={candidate.id === evolve.best}
                  program={evolveProgram}
                  onSelect={setSelectedId}
                  onClose={() => setSelectedId(null)}
                />
              )}
            </>
          ) : (
            <>
              {(model.plan || model.chosenIdea) && (
                <Card title="Plan">
                  <PlanSummary model={model} />
                </Card>
              )}
              <Card
                title={`Experiment tree${nodes.length ? ` · ${nodes.length} node${nodes.length === 1 ? '' : 's'}` : ''}`}
                actions={<TreeLegend />}
                testId="tree-card"
              >
                {searchStage && (
                  <p className="small muted search-goal">
                    <span className="pill pill-soft">{searchStage.stage}</span> {searchStage.goal}
                  </p>
                )}
                <ExperimentTree
                  nodes={nodes}
                  bestNodeId={bestNodeId}
                  selectedId={selectedId}
                  metric={metric}
                  onSelect={(id) => setSelectedId((current) => (current === id ? null : id))}
                />
                {!selected && nodes.length > 0 && (
                  <p className="faint small">Click a node to see its plan, code and output.</p>
                )}
              </Card>
              {selected && (
                <NodeDetail
                  key={selected.id}
                  runId={runId}
                  node={selected}
                  best={selected.id === bestNodeId}
                  primaryMetric={metric}
                  modelCalls={modelCalls}
                  onClose={() => setSelectedId(null)}
                />
              )}
              <Card title="Metrics by iteration" testId="metric-card">
                <MetricChart outcomes={outcomes} metrics={metrics} primary={primary} onSelect={setSelectedId} />
              </Card>
            </>
          )}
          {model.figures.length > 0 && (
            <Card title="Figures">
              <FigureGallery
                runId={runId}
                paths={model.figures}
                versions={model.figureVersions}
                captions={model.figureCaptions}
                critique={model.figureCritique}
              />
            </Card>
          )}
          {(model.usage?.calls ?? run?.usage.calls ?? 0) > 0 && (
            <Card title={`Model calls · ${model.usage?.calls ?? run?.usage.calls}`} testId="model-calls-card">
              <RunModelCalls runId={runId} calls={modelCalls} />
            </Card>
          )}
          {paperReady && (
            <Card title="Paper" testId="paper-card">
              <PaperViewer
                runId={runId}
                path={model.paper?.pdf ?? 'paper/paper.pdf'}
                version={model.paper?.pdf ?? 'done'}
              />
            </Card>
          )}
        </div>
        <aside className="run-side">
          <Card title="Downloads">
            <Downloads
              runId={runId}
              paperReady={paperReady}
              hasFiles={nodes.length > 0 || (evolve?.candidates.length ?? 0) > 0 || !live}
              extra={
                evolve
                  ? [
                      {
                        id: 'best-program',
                        label: 'Best program',
                        path: EVOLVE_ARTIFACTS.bestProgram(evolveProgram ?? ''),
                        name: evolveProgram ?? 'program',
                        enabled: !live && evolve.best !== null && evolveProgram !== null,
                      },
                      {
                        id: 'best-diff',
                        label: 'Best diff',
                        path: EVOLVE_ARTIFACTS.bestDiff,
                        name: 'diff-from-initial.patch',
                        enabled: !live && evolve.best !== null,
                      },
                      {
                        id: 'report',
                        label: 'Report',
                        path: EVOLVE_ARTIFACTS.report,
                        name: 'report.md',
                        enabled: !live,
                      },
                    ]
                  : undefined
              }
            />
          </Card>
          {evolve && (
            <Card title="Models" testId="evolve-models-card">
              <EvolveModels view={evolve} />
            </Card>
          )}
          {evolve && evolve.recommendations.length > 0 && (
            <Card title="Recommendations" testId="recommendations-card">
              <EvolveRecommendations recommendations={evolve.recommendations} onSelect={setSelectedId} />
            </Card>
          )}
          {(live || model.events.some((e) => e.type === 'hint.received')) && (
            <Card title="Hints">
              <HintBox runId={runId} events={model.events} live={live} />
            </Card>
          )}
          {model.review && (
            <Card title="Review">
              <ReviewPanel runId={runId} review={model.review} />
            </Card>
          )}
          {model.seeds && (
            <Card title="Seeds">
              <SeedsPanel seeds={model.seeds} />
            </Card>
          )}
          {(model.lessonsApplied.length > 0 || model.lessonsLearned) && (
            <Card title="Lessons">
              <RunLessons model={model} />
            </Card>
          )}
          {model.insights.length > 0 && (
            <Card title="Insights">
              <InsightsPanel insights={model.insights} />
            </Card>
          )}
          {(model.ideas.length > 0 || model.chosenIdea) && (
            <Card title="Ideation">
              <IdeasPanel model={model} />
            </Card>
          )}
          <Card title={`Events · ${model.events.length}`} className="log-card">
            <EventLog events={model.events} version={version} />
          </Card>
        </aside>
      </div>
    </div>
  );
}

/** The population by outcome, in one line. */
function PopulationSummary({
  counts,
  generation,
}: {
  counts: Record<'evaluated' | 'incorrect' | 'failed' | 'rejected' | 'pending', number>;
  generation: number;
}) {
  return (
    <p className="small muted" data-testid="population-summary">
      {generation} generation{generation === 1 ? '' : 's'} finished · {counts.evaluated} scored · {counts.incorrect}{' '}
      incorrect · {counts.failed} failed · {counts.rejected} rejected as too similar
      {counts.pending > 0 && ` · ${counts.pending} being evaluated`}
    </p>
  );
}
