// The stored-credentials routes (docs/api.md, "Credentials"; docs/access.md,
// "Stored credentials"). Secrets are write-only: no answer ever holds one.
//   GET    /api/v1/projects/{p}/credentials          a project's (read)
//   PUT    /api/v1/projects/{p}/credentials/{name}   {kind, fields, secrets} (admin)
//   DELETE /api/v1/projects/{p}/credentials/{name}   (admin)
//   GET    /api/v1/admin/credentials                 the server's (server admins)
//   PUT    /api/v1/admin/credentials/{name}          (server admins)
//   DELETE /api/v1/admin/credentials/{name}          (server admins)
// Ownership: borrows Access and Credentials (serve.cc owns them).
// Thread-safety: handlers run on the server's threads; both are safe for
// concurrent use.
#pragma once

#include "access/access.h"
#include "access/credentials.h"
#include "server/router.h"

namespace kiln {

struct CredentialsContext {
  Access& access;
  Credentials& credentials;
};

void RegisterCredentialsApi(Router& router, CredentialsContext& ctx);

}  // namespace kiln
