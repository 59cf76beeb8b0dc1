// Where a proxy process of one agent instance keeps its socket, route table, pid and log.
import { join } from 'node:path';

export interface ProxyFiles {
  socket: string;
  routes: string;
  pid: string;
  log: string;
}

export function proxyFiles(stateDir: string, instance: string): ProxyFiles {
  return {
    socket: join(stateDir, `${instance}.proxy.sock`),
    routes: join(stateDir, `${instance}.routes.json`),
    pid: join(stateDir, `${instance}.proxy.pid`),
    log: join(stateDir, `${instance}.proxy.log`),
  };
}
