#!/bin/busybox sh
# GET / -> "hello from hello 1.0 (blue)": the greeting (env), the image version and the color.
printf 'Content-Type: text/plain\r\n\r\n'
printf '%s from %s %s (%s)\n' "${GREETING:-hello}" "${SWITCHYARD_APP:-app}" "$VERSION" "${SWITCHYARD_COLOR:-none}"
