// undici's index loads every part of it (fetch, WebSocket, caches, mocks): ~3x the start-up of the
// two modules the transport uses, which it therefore requires directly (undici has no exports map);
// a proxy, where one is set, loads the index (its proxy agents need the APIs the index installs).
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  const request: (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  export default request;
}
