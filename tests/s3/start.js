// Starts the pinned s3rver (its npm package ships no bin/s3rver.js): the same options as its CLI,
// e.g. node --openssl-legacy-provider tests/s3/start.js -d DIR -a 127.0.0.1 -p 0 --configure-bucket b
// Exits when the process that started it is gone (a crashed test leaves no server behind).
'use strict';
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
require('@20minutes/s3rver/lib/cli')
  .parseAsync(process.argv)
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
