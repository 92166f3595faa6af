// PeerJS signaling server for bench/run: the npm `peer` package with its
// defaults, except the limits that would stop the benchmark itself (5,000
// concurrent clients by default; heartbeats, which the load client does not
// send, 90 s by default).  Usage: node server.js PORT
"use strict";
const { PeerServer } = require("peer");
const port = parseInt(process.argv[2] || "9000", 10);
PeerServer({
  host: "127.0.0.1",
  port,
  path: "/",
  key: "peerjs",
  concurrent_limit: 100000,
  alive_timeout: 600000,
}, () => console.log(`peerjs listening on 127.0.0.1:${port}`));
