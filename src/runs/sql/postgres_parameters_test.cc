#include <gtest/gtest.h>

#include "runs/sql/sql_connection.h"

namespace kiln {
namespace {

TEST(PostgresParameters, NumberedAndBareParametersBecomeDollars) {
  EXPECT_EQ(PostgresParameters("SELECT a FROM t WHERE x=? AND y=?"),
            "SELECT a FROM t WHERE x=$1 AND y=$2");
  EXPECT_EQ(PostgresParameters("UPDATE t SET a=?5, b=?12 WHERE id=?1"),
            "UPDATE t SET a=$5, b=$12 WHERE id=$1");
  // A bare ? after ?N is one more than the largest so far, as in SQLite.
  EXPECT_EQ(PostgresParameters("?2, ?, ?1, ?"), "$2, $3, $1, $4");
}

TEST(PostgresParameters, QuotedQuestionMarksStay) {
  EXPECT_EQ(PostgresParameters("SELECT '?', \"we?rd\" FROM t WHERE a = ? AND b = 'it''s ?'"),
            "SELECT '?', \"we?rd\" FROM t WHERE a = $1 AND b = 'it''s ?'");
}

}  // namespace
}  // namespace kiln
