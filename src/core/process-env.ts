// The environment a long-lived child (the data plane) inherits: the agent's, less its secrets. The proxy
// outlives the agent and is reachable from outside: the webhook secret, the git password and the API token
// have no business there.
const SECRET = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY)/i;

export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET.test(name) && !(name.startsWith('SWITCHYARD_') && name !== 'SWITCHYARD_LOG_LEVEL')));
}
