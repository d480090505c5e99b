#!/usr/bin/env node
// React and Ink ship development builds that check every render; a user's dashboard runs the production ones.
process.env.NODE_ENV ??= 'production';
await import('../dist/cli/index.js');
