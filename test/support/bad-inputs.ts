// A corpus of bad app files, each with the error it must produce (file apps/web.yaml). Used by the
// loader's table test and by the agent's, which checks that none of them changes anything live.
import { appYaml } from './app-yaml.js';

export interface BadInput {
  name: string;
  text: string | Uint8Array;
  line: number;
  field?: string;
  message: RegExp;
  hint?: RegExp;
  /** Default ValidationFailed. */
  code?: string;
}

export const VALID_APP = appYaml({ listen: 9000 });
const valid = VALID_APP;

export const BAD_INPUTS: BadInput[] = [
  { name: 'YAML syntax', text: 'name: web\ncolors: [\n', line: 3, message: /^YAML: / },
  { name: 'duplicate key', text: 'name: web\nname: web2\n', line: 2, message: /unique/i },
  { name: 'unknown field with a suggestion', text: valid.replace('drainTimeout:', 'drainTimout:'), line: 5, field: 'drainTimout', message: /unknown field "drainTimout"/, hint: /did you mean "drainTimeout"/ },
  { name: 'unknown nested field', text: valid.replace('  path: /healthz', '  pth: /healthz'), line: 7, field: 'health.pth', message: /unknown field "pth"/, hint: /did you mean "path"/ },
  { name: 'bad enum', text: valid.replace('active: blue', 'active: purple'), line: 23, field: 'active', message: /must be one of "blue", "green"/ },
  { name: 'negative replicas', text: valid.replace('replicas: 1', 'replicas: -1'), line: 15, field: 'colors.blue.replicas', message: />= 0/ },
  { name: 'bad duration', text: valid.replace('interval: 100ms', 'interval: 100'), line: 8, field: 'health.interval', message: /100 must be string/, hint: /500ms/ },
  { name: 'bad duration unit', text: valid.replace('interval: 100ms', 'interval: 100x'), line: 8, field: 'health.interval', message: /"100x" is not valid/, hint: /500ms/ },
  { name: 'missing field', text: valid.replace('port: 8080\n', ''), line: 1, field: 'port', message: /missing required field "port"/ },
  { name: 'bad name', text: valid.replace('name: web', 'name: Web_App'), line: 2, field: 'name', message: /"Web_App" is not valid/, hint: /DNS label/ },
  { name: 'port out of range', text: valid.replace('listen: 9000', 'listen: 70000'), line: 3, field: 'listen', message: /<= 65535/ },
  { name: 'active color with no replicas', text: valid.replace('replicas: 1', 'replicas: 0'), line: 15, field: 'colors.blue.replicas', message: /active color "blue" has 0 replicas/ },
  { name: 'not UTF-8', text: new Uint8Array([0x6e, 0x61, 0xff, 0xfe]), line: 1, message: /not valid UTF-8/ },
  { name: 'alias bomb', text: 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', line: 1, message: /alias/i },
  { name: 'too large', text: `# ${'x'.repeat(300 * 1024)}\n`, line: 1, message: /more than the limit/ },
  { name: 'a privileged container', text: valid.replace('active: blue', 'active: blue\nprivileged: true'), line: 24, field: 'privileged', message: /denied by the agent's policy \(rule "allowPrivileged"\)/, code: 'PolicyDenied' },
  { name: 'a __proto__ key in env', text: valid.replace('      GREETING: hello', '      __proto__: { polluted: "1" }'), line: 17, message: /"__proto__" cannot be a key/, hint: /prototype/ },
  { name: 'a constructor key at the top', text: valid.replace('active: blue', 'active: blue\nconstructor: x'), line: 24, message: /"constructor" cannot be a key/ },
  { name: 'a rule value with a newline', text: valid.replace('active: blue', 'active: blue\nrules:\n  - { header: X-Beta, value: "1\\nbackend x", color: green }'), line: 25, field: 'rules[0].value', message: /is not valid/, hint: /without quotes, backslashes, \$ or control characters/ },
  { name: 'a bind mount of the Docker socket', text: valid.replace('active: blue', 'active: blue\nvolumes:\n  - { hostPath: /var/run/docker.sock, path: /s }'), line: 25, field: 'volumes[0].hostPath', message: /rule "allowDockerSocket"/, code: 'PolicyDenied' },
];
