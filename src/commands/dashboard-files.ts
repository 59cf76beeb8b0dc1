// Reads the dashboard's files (dashboard/ beside dist/ and schemas/ in the package) once, at start.
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { DashboardFiles, StaticFile } from '../api/dashboard.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export function dashboardFiles(dir = new URL('../../dashboard/', import.meta.url)): DashboardFiles {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { type, body: readFileSync(new URL(name, dir)) });
  }
  return files;
}
