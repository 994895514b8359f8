// The data the editor works on — a project tree and the patches that change
// it — is the REST API's wire format, so it is defined once, in the client
// package (@kiln/client, packages/client/src/wire.ts), and re-exported here
// for the model's own modules.
export type * from '@kiln/client/wire';
