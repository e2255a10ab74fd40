import { z } from 'zod';
import { jsonSetting } from './json-setting.js';

/**
 * Sandbox images a run can pick with `sandbox.image`: the built-in `python` image (AUTOLAB_PYTHON_IMAGE), always
 * there and the default, and whatever the operator registers with AUTOLAB_SANDBOX_IMAGES. The API and the worker
 * read the same setting; a worker that lacks an image a run names fails that run with `sandbox_image_unknown`.
 */

export const DEFAULT_SANDBOX_IMAGE = 'python';
export const SANDBOX_IMAGE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;
export const SandboxImageName = z
  .string()
  .regex(
    SANDBOX_IMAGE_NAME_PATTERN,
    'an image name is 1-40 lowercase letters, digits, _ and -, starting with a letter',
  );

/** What the built-in image offers (sandbox-images/python/Dockerfile; a test keeps the two in step). */
export const BUILTIN_PYTHON_PACKAGES = [
  'python3',
  'numpy',
  'scipy',
  'pandas',
  'matplotlib',
  'seaborn',
  'scikit-learn',
  'statsmodels',
  'tqdm',
  'torch',
] as const;

/** A Docker image reference as `docker run` takes it (repository[:tag][@digest]). */
const DockerReference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'a Docker image reference such as my-image:1.0');

/** One entry of AUTOLAB_SANDBOX_IMAGES. */
export const RegisteredSandboxImage = z
  .object({
    name: SandboxImageName.refine((name) => name !== DEFAULT_SANDBOX_IMAGE, {
      message: `"${DEFAULT_SANDBOX_IMAGE}" is the built-in image (set its tag with AUTOLAB_PYTHON_IMAGE)`,
    }),
    tag: DockerReference,
    packages: z.array(z.string().trim().min(1).max(100)).max(200).default([]),
    description: z.string().trim().max(500).optional(),
  })
  .strict();

const EXAMPLE = '[{"name": "alt", "tag": "my-python:1", "packages": ["numpy", "einops"]}]';

/** AUTOLAB_SANDBOX_IMAGES: a JSON array of registered images (empty or unset: none). */
export const SandboxImagesSetting = jsonSetting(
  z
    .array(RegisteredSandboxImage, { error: `expected a JSON array such as ${EXAMPLE}` })
    .max(50)
    .superRefine((images, ctx) => {
      const seen = new Set<string>();
      images.forEach((image, i) => {
        if (seen.has(image.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${image.name}" is registered twice` });
        seen.add(image.name);
      });
    }),
  [],
  EXAMPLE,
);

export const SandboxImage = z.object({
  name: z.string().describe('What a run names in `sandbox.image`.'),
  tag: z.string().describe('The Docker image the sandboxes run.'),
  packages: z.array(z.string()).describe('What the image offers experiments, as the operator listed it.'),
  description: z.string().nullable(),
  default: z.boolean().describe('The image of runs that name none (the built-in `python`).'),
});
export type SandboxImage = z.infer<typeof SandboxImage>;

export const SandboxImageList = z.object({ images: z.array(SandboxImage) });
export type SandboxImageList = z.infer<typeof SandboxImageList>;

/** Every image runs can pick: the built-in one first, then the registered ones in their order. */
export function sandboxImageCatalog(
  pythonTag: string,
  registered: z.output<typeof SandboxImagesSetting>,
): SandboxImage[] {
  return [
    {
      name: DEFAULT_SANDBOX_IMAGE,
      tag: pythonTag,
      packages: [...BUILTIN_PYTHON_PACKAGES],
      description: 'The built-in image: Debian’s scientific Python stack with PyTorch (CPU).',
      default: true,
    },
    ...registered.map((image) => ({
      name: image.name,
      tag: image.tag,
      packages: image.packages,
      description: image.description ?? null,
      default: false,
    })),
  ];
}
