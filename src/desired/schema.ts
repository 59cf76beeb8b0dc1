// The app JSON Schema (schemas/app.schema.json) as a validator compiled ahead of time
// (scripts/compile-schemas.ts): the agent neither loads ajv nor compiles the schema at start.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validate } from './app-validator.generated.js';

export function appValidator(): ValidateFunction {
  return validate as unknown as ValidateFunction;
}

export type { ErrorObject };
