import { z } from 'zod';
import { MAX_GOAL_CHARS, MetricDirection } from './run.js';

export const TemplateMetric = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/, 'a metric name is letters, digits, _ . -'),
    direction: MetricDirection,
    description: z.string().min(1).max(500),
  })
  .describe('The primary metric the baseline records in results.json, by its exact key.');

export const TemplateIdea = z.strictObject({
  title: z.string().min(1).max(200),
  hypothesis: z.string().min(1).max(1000),
});

/**
 * `template.yaml`: what a template says about itself. Its programs are the files beside it: `baseline.py` (the
 * starting code, run as it is as the run's first experiment) and `plot.py` (a starting point for the figures).
 */
export const TemplateManifest = z.strictObject({
  title: z.string().min(1).max(200),
  goal: z.string().trim().min(10).max(MAX_GOAL_CHARS).describe('The research goal a run of the template pursues.'),
  metric: TemplateMetric,
  seedIdeas: z.array(TemplateIdea).max(10).default([]).describe('Ideas ideation starts from.'),
  paperNotes: z
    .string()
    .max(4000)
    .nullable()
    .default(null)
    .describe('What the paper should say about the setting (the datasets, the baseline, known results).'),
});
export type TemplateManifest = z.infer<typeof TemplateManifest>;

/** A built-in research template as `GET /v1/templates` lists it. */
export const Template = z.object({
  name: z.string().describe('Pass as `inputs.template` in `POST /v1/runs`.'),
  title: z.string(),
  goal: z.string().describe('Used as the run’s goal when the request gives none.'),
  metric: TemplateMetric,
  baselineCode: z
    .string()
    .describe('baseline.py: the run’s starting code, found at /workspace/input/code/ and run as the first experiment.'),
  plotCode: z.string().describe('plot.py: offered to the figures step as a starting point.'),
  seedIdeas: z.array(TemplateIdea),
  paperNotes: z.string().nullable(),
});
export type Template = z.infer<typeof Template>;

export const TemplateList = z.object({ templates: z.array(Template) });
export type TemplateList = z.infer<typeof TemplateList>;
