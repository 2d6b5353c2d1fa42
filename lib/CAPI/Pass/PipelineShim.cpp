//===- PipelineShim.cpp - Registered pipelines from C definitions ---------===//
//
// A CagePassPipelineDefinition (cage/Pass/PassDefinition.h) becomes a
// registered pass pipeline (mlir::registerPassPipeline): `--argument` on the
// command line or `argument{option=value ...}` in a textual pipeline parses
// the options (declared like a pass's, Options.h), asks the C build callback
// for the pipeline's text and parses that into the pass manager the pipeline
// is named in. Each of its passes is then a pass of that manager, which IR
// printing, timing and crash reproducers see, rather than one pass running a
// nested pass manager.
//
//===----------------------------------------------------------------------===//

#include "CAPI/Pass/Options.h"

#include "cage/Pass/PassDefinition.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

using namespace mlir;

namespace {
/// The options of one pipeline, declared from its C description.
class CPipelineOptions : public detail::PassOptions {
public:
  explicit CPipelineOptions(const CagePassPipelineDefinition *def) {
    slots.declare(*this, def->options, def->numOptions);
  }

  std::vector<CagePassOptionValue> values() const { return slots.values(); }

private:
  cage::OptionSlots slots;
};

/// What the build callback writes.
struct Built {
  std::string pipeline;
  std::string error;
};

void appendPipeline(MlirStringRef text, void *userData) {
  static_cast<Built *>(userData)->pipeline.append(text.data, text.length);
}

void appendError(MlirStringRef text, void *userData) {
  static_cast<Built *>(userData)->error.append(text.data, text.length);
}

/// Adds the passes of `def` with the options in `optionsText` to `pm`.
LogicalResult
addPipeline(const CagePassPipelineDefinition *def, OpPassManager &pm,
            StringRef optionsText,
            function_ref<LogicalResult(const Twine &)> errorHandler) {
  CPipelineOptions options(def);
  std::string message;
  llvm::raw_string_ostream os(message);
  if (failed(options.parseFromString(optionsText, os))) {
    // llvm::cl reports a bad value on stderr itself, and nothing here.
    if (message.empty())
      return errorHandler(Twine(def->argument) + ": invalid options `" +
                          optionsText + "`");
    return errorHandler(message);
  }

  std::vector<CagePassOptionValue> values = options.values();
  Built built;
  if (mlirLogicalResultIsFailure(
          def->build(values.data(), appendPipeline, appendError, &built)))
    return errorHandler(built.error);

  // The text is anchored, `builtin.module(...)`, and its passes go into `pm`
  // itself, not into a pass manager nested in it: `pm` must run on that op
  // (or on any op). The passes of the list check their own anchors.
  StringRef text = StringRef(built.pipeline).trim();
  size_t open = text.find('(');
  if (open == StringRef::npos || !text.ends_with(")"))
    return errorHandler(Twine(def->argument) + ": the pipeline `" + text +
                        "` is not anchored on an op");
  StringRef anchor = text.take_front(open).trim();
  if (pm.getOpName() && pm.getOpAnchorName() != anchor)
    return errorHandler(Twine(def->argument) + " runs on '" + anchor +
                        "', not on '" + pm.getOpAnchorName() + "'");
  message.clear();
  if (failed(parsePassPipeline(text.slice(open + 1, text.size() - 1), pm, os)))
    return errorHandler(Twine(def->argument) + ": " + message);
  return success();
}
} // namespace

extern "C" void
cagePassPipelineRegister(const CagePassPipelineDefinition *definition) {
  // registerPassPipeline fails on a second registration of the same argument.
  if (PassPipelineInfo::lookup(definition->argument))
    return;
  registerPassPipeline(
      definition->argument, definition->summary,
      [definition](OpPassManager &pm, StringRef options,
                   function_ref<LogicalResult(const Twine &)> errorHandler) {
        return addPipeline(definition, pm, options, errorHandler);
      },
      [definition](function_ref<void(const detail::PassOptions &)> handler) {
        CPipelineOptions options(definition);
        handler(options);
      });
}
