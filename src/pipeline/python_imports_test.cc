#include "pipeline/python_imports.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using Modules = std::vector<std::string>;

Modules Scan(std::string_view code) {
  auto m = ImportedModules(code);
  EXPECT_TRUE(m.has_value()) << code;
  return m.value_or(Modules{"<dynamic>"});
}

TEST(ImportedModules, ImportStatementsOfEveryShape) {
  EXPECT_EQ(Scan("import os\nimport a.b.c as d, e\nfrom f.g import h\nfrom i import (j,\n k)\n"),
            (Modules{"a", "e", "f", "i", "os"}));
  // Inside functions and compound statements, after `;` and on a `:` line.
  EXPECT_EQ(Scan("def f():\n    import torch\n    return 1\n"), (Modules{"torch"}));
  EXPECT_EQ(Scan("x = 1; import json\ntry: import numpy as np\nexcept ImportError: pass\n"),
            (Modules{"json", "numpy"}));
  EXPECT_EQ(Scan("if True:\n    from matplotlib import pyplot as plt\n"), (Modules{"matplotlib"}));
  EXPECT_EQ(Scan("import \\\n    sklearn\n"), (Modules{"sklearn"}));
  EXPECT_EQ(
      Scan("class Step:\n    def execute(self, a, b):\n        y = a + b\n        return y\n"),
      Modules{});
}

TEST(ImportedModules, StringsAndCommentsAreNotCode) {
  EXPECT_EQ(Scan("\"\"\"Loads data from the file.\nimport torch\n\"\"\"\nimport os\n"),
            (Modules{"os"}));
  EXPECT_EQ(Scan("# import torch\nx = 'import numpy'  # from scipy import x\n"), Modules{});
  EXPECT_EQ(Scan("s = f\"{x!r} from {y}\"\nt = rb'\\'import torch'\nimport math\n"),
            (Modules{"math"}));
  EXPECT_EQ(Scan("s = '''a\n'' \\''' \nimport torch\n'''\nimport re\n"), (Modules{"re"}));
}

TEST(ImportedModules, FromThatIsNotAnImport) {
  EXPECT_EQ(Scan("def g():\n    yield from range(3)\n    raise ValueError() from None\n"),
            Modules{});
  EXPECT_EQ(Scan("from . import sibling\nfrom .pkg import x\n"), Modules{});
}

TEST(ImportedModules, DynamicImportsAreUnknown) {
  EXPECT_FALSE(ImportedModules("m = __import__('torch')\n").has_value());
  EXPECT_FALSE(ImportedModules("import importlib\nm = importlib.import_module(n)\n").has_value());
  EXPECT_FALSE(ImportedModules("exec(code)\n").has_value());
  EXPECT_FALSE(ImportedModules("eval('1')\n").has_value());
  // A method named eval is not the builtin.
  EXPECT_EQ(Scan("model.eval()\n"), Modules{});
  // Mentioned in a string, it is not called.
  EXPECT_EQ(Scan("doc = 'uses __import__'\n"), Modules{});
}

TEST(JobModules, CodeResourcesAndInputSerializers) {
  PlanJob job;
  job.code = "import json\nfrom net import Net\n";
  PlanResource r;
  r.code = GeneratedCode{{{"net.py", "import torch\nfrom torch import nn\n"}}, "net.py", "Net"};
  job.resources.push_back(r);
  EXPECT_EQ(JobModules(job, {}), (Modules{"json", "torch"}));  // `net` is the bundle's own
  EXPECT_EQ(JobModules(job, {"json", "numpy"}), (Modules{"json", "numpy", "torch"}));
  // A pickle may name any class: unknown.
  EXPECT_FALSE(JobModules(job, {"json", "pickle"}).has_value());
  PlanJob plain;
  plain.code = "class Step:\n    def execute(self, a):\n        y = a\n        return y\n";
  EXPECT_EQ(JobModules(plain, {"json", "json"}), Modules{});
  EXPECT_EQ(JobModules(plain, {"raw"}), Modules{});  // a file's bytes (an upload): no import
  plain.code += "x = __import__('os')\n";
  EXPECT_FALSE(JobModules(plain, {}).has_value());
}

}  // namespace
}  // namespace kiln
