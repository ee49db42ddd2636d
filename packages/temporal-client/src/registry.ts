/**
 * The workflow registry of the Python system's generated `registry.ts`: one definition per workflow with its form
 * fields. Fields are the `@gptmarket/sdk` form registry's (from the contracts' JSON Schemas: defaults, bounds,
 * options, per-model params); `secret_key` is never a field. Browser-safe.
 */
import { GENERATION_TYPES } from '@gptmarket/sdk/contracts';
import { getForm, type FieldDefinition } from '@gptmarket/sdk';
import type { WorkflowClass, WorkflowId, WorkflowInputMap, WorkflowOutputMap } from './types.js';

export type { FieldDefinition, FieldType, FieldValidation, SelectOption } from '@gptmarket/sdk';

export interface WorkflowDefinition<TInput = unknown, TOutput = unknown> {
  id: string;
  name: string;
  description: string;
  /** The Temporal workflow type to start. */
  workflowClass: string;
  /** Name of the input type (`RubyInput`). */
  inputType: string;
  outputType: string;
  fields: FieldDefinition[];
  /** Prefix of generated workflow ids (`ruby-<uuid>`). */
  idPrefix: string;
  /** Unused at run time: carries the input and output types. */
  readonly __types?: { input: TInput; output: TOutput };
}

type Registry = {
  readonly [K in WorkflowId]: WorkflowDefinition<WorkflowInputMap[K], WorkflowOutputMap[K]> & {
    id: K;
    workflowClass: (typeof GENERATION_TYPES)[K]['workflowType'];
  };
};

function definition(id: WorkflowId): WorkflowDefinition {
  const def = GENERATION_TYPES[id];
  const base = def.workflowType.replace(/Workflow$/, '');
  return {
    id,
    name: def.name,
    description: def.description,
    workflowClass: def.workflowType,
    inputType: `${base}Input`,
    outputType: `${base}Output`,
    fields: getForm(id)?.fields.map((f) => ({ ...f })) ?? [],
    idPrefix: def.workflowIdPrefix,
  };
}

export const workflowRegistry = Object.freeze(
  Object.fromEntries((Object.keys(GENERATION_TYPES) as WorkflowId[]).map((id) => [id, Object.freeze(definition(id))])),
) as Registry;

export const ruby = workflowRegistry.ruby;
export const slideshows_pinterest = workflowRegistry.slideshows_pinterest;
export const voiceover = workflowRegistry.voiceover;
export const transcript_summary = workflowRegistry.transcript_summary;
export const hello_world = workflowRegistry.hello_world;

/** A workflow by id, or by its workflow type (`RubyWorkflow`); undefined for one the registry does not have. */
export function getWorkflow<K extends WorkflowId>(id: K): Registry[K];
export function getWorkflow(idOrClass: string): WorkflowDefinition | undefined;
export function getWorkflow(idOrClass: string): WorkflowDefinition | undefined {
  if (Object.hasOwn(workflowRegistry, idOrClass)) return workflowRegistry[idOrClass as WorkflowId];
  return getAllWorkflows().find((w) => w.workflowClass === idOrClass);
}

export function getAllWorkflows(): WorkflowDefinition[] {
  return Object.values(workflowRegistry);
}

export function getWorkflowIds(): WorkflowId[] {
  return Object.keys(workflowRegistry) as WorkflowId[];
}

export type { WorkflowClass, WorkflowId, WorkflowInputMap, WorkflowOutputMap };
