// App files for tests, written the way a user would write them.
export interface AppYamlOptions {
  name?: string;
  /** A port of the app's own; omitted: served by `more`'s hosts only. */
  listen?: number;
  /** More top-level YAML, as written (hosts, tls, maintenance...). */
  more?: string;
  active?: 'blue' | 'green';
  blueImage?: string;
  greenImage?: string;
  replicas?: number;
  greeting?: { blue?: string; green?: string };
  startTimeout?: string;
}

export function appYaml(o: AppYamlOptions): string {
  return `version: 1
name: ${o.name ?? 'web'}
${o.listen !== undefined ? `listen: ${o.listen}\n` : ''}${o.more ?? ''}port: 8080
drainTimeout: 5s
health:
  path: /healthz
  interval: 100ms
  timeout: 1s
  healthyThreshold: 2
  startTimeout: ${o.startTimeout ?? '20s'}
colors:
  blue:
    image: ${o.blueImage ?? 'img:blue'}
    replicas: ${o.replicas ?? 1}
    env:
      GREETING: ${o.greeting?.blue ?? 'hello'}
  green:
    image: ${o.greenImage ?? 'img:green'}
    replicas: ${o.replicas ?? 1}
    env:
      GREETING: ${o.greeting?.green ?? 'hi'}
active: ${o.active ?? 'blue'}
`;
}
