export {
  BUILTIN_TEMPLATES_DIR,
  TemplateCatalog,
  TemplateError,
  type TemplateSource,
} from './template-catalog.js';
