// The audit journal as the reconciler writes it and the API reads it: one entry per attempt to apply a
// commit to an app. The file-backed one is adapters/files/journal.ts.
import type { Color } from './app.js';

export interface JournalEntry {
  /** ISO time of the result. */
  at: string;
  app: string;
  commit: string;
  author?: string;
  message?: string;
  /** When the commit was made (ISO), from git. */
  committedAt?: string;
  changes: string[];
  /** `moved`: the followed tag points at another commit now (app `*`); `reverted`: the agent pushed a revert of the commit (a guard's revertCommit). */
  result: 'applied' | 'failed' | 'refused' | 'moved' | 'reverted';
  reason?: string;
  detail?: string;
  color?: Color;
  durations?: { fetchMs?: number; bringUpMs?: number; gateMs?: number; checksMs?: number; flipMs?: number; totalMs?: number };
}

export interface Journal {
  append(entry: JournalEntry): Promise<void>;
  read(filter?: { app?: string; limit?: number }): Promise<JournalEntry[]>;
}
