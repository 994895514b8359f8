#include "config/config.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(ServerConfig, ReadsBackendsAndRouting) {
  auto c = ParseServerConfig(R"(
[server]
public_url = "http://kiln.lab:8080/"

[backends.local]
kind = "local"
slots = 2
gpus = 2
gpu_type = "a100"

[backends.cluster]
kind = "slurm"
partition = "debug"
sbatch_args = ["--account=lab"]
gpu_flag = "gpus"
pythonpath = "/opt/kiln/python"
env = { SLURM_CONF = "/etc/slurm/slurm.conf" }
poll_min_s = 0.5
max_jobs = 50

[routing]
default = "local"
pipelines = { "Train digits" = "cluster" }
operations = { Train = "cluster" }
)",
                             "kiln.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->public_url, "http://kiln.lab:8080");
  ASSERT_EQ(c->backends.size(), 2u);
  EXPECT_EQ(c->backends[0].name, "local");
  EXPECT_EQ(c->backends[0].gpus, 2);
  EXPECT_EQ(c->backends[0].gpu_type, "a100");
  const BackendConfig& s = c->backends[1];
  EXPECT_EQ(s.kind, "slurm");
  EXPECT_EQ(s.site.name, "cluster");
  EXPECT_EQ(s.site.partition, "debug");
  EXPECT_EQ(s.site.sbatch_args, std::vector<std::string>{"--account=lab"});
  EXPECT_EQ(s.site.gpu_flag, "gpus");
  EXPECT_EQ(s.env.at("SLURM_CONF"), "/etc/slurm/slurm.conf");
  EXPECT_DOUBLE_EQ(s.poll_min_s, 0.5);
  EXPECT_EQ(s.max_jobs, 50u);
  EXPECT_EQ(c->default_backend, "local");
  EXPECT_EQ(c->route_pipelines.at("Train digits"), "cluster");
  EXPECT_EQ(c->route_operations.at("Train"), "cluster");
}

TEST(ServerConfig, ReadsARemoteWorkersBackend) {
  auto c = ParseServerConfig(
      "[backends.lab]\nkind = \"remote\"\nworker_timeout_s = 5\npoll_s = 0.2\nmax_attempts = 2\n",
      "kiln.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->backends.size(), 1u);
  EXPECT_EQ(c->backends[0].kind, "remote");
  EXPECT_DOUBLE_EQ(c->backends[0].worker_timeout_s, 5);
  EXPECT_DOUBLE_EQ(c->backends[0].poll_s, 0.2);
  EXPECT_EQ(c->backends[0].max_attempts, 2);
}

TEST(ServerConfig, ReadsAnS3Storage) {
  auto c = ParseServerConfig(
      "[storage]\nkind = \"s3\"\nendpoint = \"http://127.0.0.1:7480\"\nbucket = \"kiln\"\n"
      "access_key = \"AK\"\nsecret_key_env = \"KILN_S3_SECRET\"\npart_size_mb = 8\n"
      "presigned_downloads = false\n",
      "kiln.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.kind, "s3");
  EXPECT_EQ(c->storage.bucket, "kiln");
  EXPECT_EQ(c->storage.part_size_mb, 8u);
  EXPECT_FALSE(c->storage.presigned_downloads);
  EXPECT_EQ(c->storage.region, "us-east-1");
  auto d = ParseServerConfig("", "kiln.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->storage.kind, "local");
  EXPECT_EQ(d->database.kind, "sqlite");
  auto stored = ParseServerConfig(
      "[storage]\nkind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\ncredentials = \"lab\"\n",
      "kiln.toml");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->storage.credentials, "lab");
  auto both = ParseServerConfig(
      "[storage]\nkind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\ncredentials = "
      "\"lab\"\naccess_key = \"k\"\n",
      "kiln.toml");
  EXPECT_FALSE(both.ok());
  auto pg = ParseServerConfig(
      "[database]\nkind = \"postgres\"\nconninfo = \"postgresql://kiln@db:5432/kiln\"\n",
      "kiln.toml");
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->database.conninfo, "postgresql://kiln@db:5432/kiln");
}

// [storage] is the default backend; [storage.NAME] tables are more, in file order.
TEST(ServerConfig, ReadsNamedStorageBackends) {
  auto c = ParseServerConfig(R"(
[storage]
name = "fast"
kind = "local"

[storage.scratch]
kind = "local"
path = "/mnt/scratch/kiln"

[storage.archive]
kind = "s3"
endpoint = "http://127.0.0.1:7480"
bucket = "kiln"
access_key = "AK"
secret_key_env = "KILN_S3_SECRET"
presigned_downloads = false
)",
                             "kiln.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.name, "fast");
  EXPECT_EQ(c->storage.kind, "local");
  EXPECT_EQ(c->storage.path, "");
  ASSERT_EQ(c->more_storage.size(), 2u);
  EXPECT_EQ(c->more_storage[0].name, "scratch");
  EXPECT_EQ(c->more_storage[0].path, "/mnt/scratch/kiln");
  EXPECT_EQ(c->more_storage[1].name, "archive");
  EXPECT_EQ(c->more_storage[1].kind, "s3");
  EXPECT_EQ(c->more_storage[1].bucket, "kiln");
  EXPECT_FALSE(c->more_storage[1].presigned_downloads);
  // Without [storage] at all: one local backend named "default".
  auto d = ParseServerConfig("", "kiln.toml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->storage.name, "default");
  EXPECT_TRUE(d->more_storage.empty());
}

// Each mistake is reported with the file, the line and the key.
TEST(ServerConfig, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"[backends.cluster]\nkind = \"slurmm\"\n",
       "kiln.toml:2: backends.cluster.kind: unknown backend kind 'slurmm' (local, slurm, remote)"},
      {"[backends.cluster]\npartition = \"x\"\n",
       "kiln.toml:1: backends.cluster.kind: missing (local, slurm or remote)"},
      {"[backends.l]\nkind = \"local\"\nslots = 0\n",
       "kiln.toml:3: backends.l.slots: must be at least 1"},
      {"[backends.l]\nkind = \"local\"\ngpus = 1.5\n",
       "kiln.toml:3: backends.l.gpus: must be a whole number"},
      {"[backends.l]\nkind = \"local\"\npartition = \"x\"\n",
       "kiln.toml:3: backends.l.partition: unknown setting for a local backend (gpu_type, gpus, "
       "kind, max_memory_mb, slots)"},
      {"[storage]\nkind = \"s3\"\nsecret_key = \"x\"\n",
       "kiln.toml:3: storage.secret_key: a secret does not belong in the config file: name the "
       "environment variable that holds it with secret_key_env"},
      {"[storage]\nkind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\naccess_key = \"k\"\n",
       "kiln.toml:1: storage.secret_key_env: missing (an s3 storage needs it)"},
      {"[database]\nkind = \"postgres\"\nconninfo = \"host=db password=hunter2\"\n",
       "kiln.toml:3: database.conninfo: a password does not belong in the config file: libpq "
       "reads it from PGPASSWORD or ~/.pgpass"},
      {"[database]\nkind = \"postgres\"\nconninfo = \"postgresql://kiln:hunter2@db/kiln\"\n",
       "kiln.toml:3: database.conninfo: a password does not belong in the config file: libpq "
       "reads it from PGPASSWORD or ~/.pgpass"},
      {"[database]\nkind = \"postgres\"\n",
       "kiln.toml:1: database.conninfo: missing (a postgres database needs it)"},
      {"[database]\nkind = \"mysql\"\n",
       "kiln.toml:2: database.kind: unknown database kind 'mysql' (sqlite, postgres)"},
      {"[storage.archive]\nkind = \"nfs\"\n",
       "kiln.toml:2: storage.archive.kind: unknown storage kind 'nfs' (local, s3)"},
      {"[storage]\nname = \"archive\"\n[storage.archive]\nkind = \"local\"\n",
       "kiln.toml:3: storage.archive: the name 'archive' is the default backend's ([storage] "
       "name); give one of them another"},
      {"[storage.default]\nkind = \"local\"\n",
       "kiln.toml:1: storage.default: the name 'default' is the default backend's"},
      {"[storage.a]\npath = \"/srv/a\"\n[storage.b]\npath = \"/srv/a\"\n",
       "kiln.toml:3: storage.b: stores in the same place as the backend 'a' (local /srv/a)"},
      {"[storage.\"a b\"]\nkind = \"local\"\n",
       "kiln.toml:1: storage.a b: a storage backend's name is letters, digits, '_' and '-'"},
      {"[storage.a]\nname = \"b\"\n",
       "kiln.toml:2: storage.a.name: unknown setting (kind, path, endpoint"},
      {"[storage.a]\n[storage.a.b]\nkind = \"local\"\n",
       "kiln.toml:2: storage.a.b: unknown setting (kind, path, endpoint"},
      {"[storage]\nbukket = \"x\"\n",
       "kiln.toml:2: storage.bukket: unknown setting (kind, name, path, endpoint"},
      {"[storage.a]\npath = \"relative/dir\"\n",
       "kiln.toml:2: storage.a.path: must be an absolute path"},
      {"[storage.a]\nkind = \"s3\"\npath = \"/x\"\nendpoint = \"http://h\"\n",
       "kiln.toml:1: storage.a.path: only a local storage has a path (this one is s3)"},
      {"[storage.a]\nkind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\n",
       "kiln.toml:1: storage.a.access_key: missing (an s3 storage needs it)"},
      {"[storage]\nkind = \"nfs\"\n",
       "kiln.toml:2: storage.kind: unknown storage kind 'nfs' (local, s3)"},
      {"[backends.w]\nkind = \"remote\"\npoll_s = 0.01\n",
       "kiln.toml:3: backends.w.poll_s: must be at least 0.05"},
      {"[backends.w]\nkind = \"remote\"\nslots = 2\n",
       "kiln.toml:3: backends.w.slots: unknown setting for a remote backend (kind, max_attempts, "
       "max_jobs, poll_s, worker_timeout_s)"},
      {"[backends.c]\nkind = \"slurm\"\ngpu_flag = \"gpu\"\n",
       "kiln.toml:3: backends.c.gpu_flag: must be \"gres\" or \"gpus\""},
      {"[backends.c]\nkind = \"slurm\"\nsbatch_args = [\"account=lab\"]\n",
       "kiln.toml:3: backends.c.sbatch_args: 'account=lab' is not an sbatch option"},
      {"[backends.l]\nkind = \"local\"\n[routing]\ndefault = \"cluster\"\n",
       "kiln.toml:4: routing.default: no backend named 'cluster'"},
      {"[routing]\noperations = { Train = \"gpu\" }\n",
       "kiln.toml:2: routing.operations.Train: no backend named 'gpu'"},
      {"[server]\npublic_url = \"kiln.lab\"\n",
       "kiln.toml:2: server.public_url: must start with http:// or https://"},
      {"[compute]\n",
       "kiln.toml:1: compute: unknown section (server, backends, routing, storage, database)"},
      {"[backends.\"../x\"]\nkind = \"slurm\"\n",
       "kiln.toml:1: backends.../x: a backend's name is letters, digits"},
      {"[backends.l\n", "kiln.toml:1: "},
  };
  for (const Case& c : cases) {
    auto r = ParseServerConfig(c.text, "kiln.toml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message().rfind(c.error, 0), 0u)
        << "got: " << r.status().message() << "\nwanted: " << c.error;
  }
}

TEST(ServerConfig, MissingFileSaysWhich) {
  auto r = LoadServerConfig("/nonexistent/kiln.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot read the config file /nonexistent/kiln.toml");
}

}  // namespace
}  // namespace kiln
