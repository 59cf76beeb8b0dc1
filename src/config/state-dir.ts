// Where the agent and its data plane keep their state when no --state-dir is given: its own module, so
// that the data plane process reads it without loading the agent's config (schema, YAML, cron).
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_STATE_DIR = join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'switchyard');
