// A `command:` for the hello image that makes a color misbehave on purpose, by its GREETING: "flaky"
// answers one request to / in four with a 500; "broken" fails the /cgi-bin/checkout.cgi smoke check
// ("database is down"); any other greeting serves as usual. Busybox only: the image is FROM scratch.
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const SCRIPTS: Record<string, string[]> = {
  'index.cgi': [
    '#!/bin/busybox sh',
    'if [ "$GREETING" = flaky ] && [ $((RANDOM % 4)) -eq 0 ]; then printf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\nflaky (%s)\\n" "$SWITCHYARD_COLOR"; exit 0; fi',
    'printf "Content-Type: text/plain\\r\\n\\r\\n%s (%s)\\n" "$GREETING" "$SWITCHYARD_COLOR"',
  ],
  'checkout.cgi': [
    '#!/bin/busybox sh',
    'if [ "$GREETING" = broken ]; then printf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\ndatabase is down\\n"; exit 0; fi',
    'printf "Content-Type: text/plain\\r\\n\\r\\nok\\n"',
  ],
};

const START = [...Object.entries(SCRIPTS).map(([name, lines]) => `printf '%s\\n' ${lines.map(q).join(' ')} > /www/cgi-bin/${name} && chmod +x /www/cgi-bin/${name}`), 'exec /bin/busybox httpd -f -p 8080 -h /www'].join(' && ');

/** The app file's `command:` line (YAML flow sequence). */
export const FLAKY_COMMAND = `command: ${JSON.stringify(['/bin/busybox', 'sh', '-c', START])}\n`;
