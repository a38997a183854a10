// PostGraphile v4 with @graphile/postgis over Circle's own tables: the peer bench/bench_peer.py
// measures Circle against. Usage: node server.js PORT DATABASE_URL [PROCESSES]
// Settings as a production deployment would have them: no GraphiQL, no query log, no
// mutations, no Relay node ids (the primary key is `id`, as in Circle).
"use strict";
const cluster = require("cluster");
const http = require("http");
const { postgraphile } = require("postgraphile");
const PostgisPlugin = require("@graphile/postgis").default;
const { NodePlugin } = require("graphile-build");

const [port, url, processes = "1"] = process.argv.slice(2);

if (cluster.isPrimary && Number(processes) > 1) {
  for (let i = 0; i < Number(processes); i++) cluster.fork();
} else {
  const middleware = postgraphile(url, "public", {
    appendPlugins: [PostgisPlugin],
    skipPlugins: [NodePlugin],
    disableDefaultMutations: true,
    setofFunctionsContainNulls: false,
    dynamicJson: true,
    disableQueryLog: true,
    graphiql: false,
    enableQueryBatching: false,
    retryOnInitFail: false,
  });
  http.createServer(middleware).listen(Number(port), "127.0.0.1");
}
