/* Holds one LMDB read transaction open on a store, as a stuck reader would, until its standard
 * input closes. Prints "holding TXNID" once the snapshot is taken. Usage: hold_reader DATA_DIR */
#include <lmdb.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  MDB_env* env = NULL;
  MDB_txn* txn = NULL;
  int rc = mdb_env_create(&env);
  if (rc == 0)
    rc = mdb_env_set_maxdbs(env, 16);
  if (rc == 0)
    rc = mdb_env_open(env, argv[1], MDB_RDONLY, 0644);
  if (rc == 0)
    rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
  if (rc != 0) {
    fprintf(stderr, "hold_reader %s: %s\n", argv[1], mdb_strerror(rc));
    return 1;
  }
  printf("holding %zu\n", mdb_txn_id(txn));
  fflush(stdout);
  while (getchar() != EOF) {
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return 0;
}
