// The app JSON Schema (schemas/app.schema.json), compiled once with ajv.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const SCHEMA_URL = new URL('../../schemas/app.schema.json', import.meta.url);

let compiled: ValidateFunction | undefined;

export function appValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')));
  }
  return compiled;
}

export type { ErrorObject };
