//===- Options.h - Typed MLIR options from a C option description -*- C++ -*-//
//
// Passes (PassShim.cpp) and pipelines (PipelineShim.cpp) written in C
// describe their options with the same CagePassOption array. OptionSlots
// declares them as typed MLIR options on either (an mlir::Pass or a
// detail::PassOptions), so that both parse `name=value`, reject unknown
// options and list them in --help alike, and reads their values back in the
// form the C callbacks take.
//
//===----------------------------------------------------------------------===//

#ifndef CAGE_LIB_PASS_OPTIONS_H
#define CAGE_LIB_PASS_OPTIONS_H

#include "cage/Pass/PassDefinition.h"

#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <string>
#include <vector>

namespace cage {

class OptionSlots {
public:
  /// Declares `options[0..n)` on `parent`, a Pass or a detail::PassOptions,
  /// through its own Option class (Pass::Option puts them in the pass's
  /// options, which the pass prints, parses and clones).
  template <typename Parent>
  void declare(Parent &parent, const CagePassOption *options, intptr_t n) {
    for (intptr_t i = 0; i < n; ++i)
      declare(parent, options[i]);
  }

  /// The current values, in declaration order; strings point into the
  /// options and live as long as they do.
  std::vector<CagePassOptionValue> values() const {
    std::vector<CagePassOptionValue> result;
    result.reserve(slots.size());
    for (const Slot &slot : slots) {
      CagePassOptionValue v;
      if (slot.b)
        v.b = *slot.b;
      else if (slot.i)
        v.i = *slot.i;
      else if (slot.d)
        v.d = *slot.d;
      else
        v.s = slot.s->getValue().c_str();
      result.push_back(v);
    }
    return result;
  }

private:
  template <typename T> using Option = mlir::detail::PassOptions::Option<T>;

  // One typed slot per declared option, in declaration order; exactly one
  // pointer of each slot is set, according to the option's kind.
  struct Slot {
    std::unique_ptr<Option<bool>> b;
    std::unique_ptr<Option<int64_t>> i;
    std::unique_ptr<Option<double>> d;
    std::unique_ptr<Option<std::string>> s;
  };

  template <typename Parent>
  void declare(Parent &parent, const CagePassOption &o) {
    using BoolOption = typename Parent::template Option<bool>;
    using IntOption = typename Parent::template Option<int64_t>;
    using DoubleOption = typename Parent::template Option<double>;
    using StringOption = typename Parent::template Option<std::string>;
    auto desc = llvm::cl::desc(o.description);
    Slot slot;
    switch (o.kind) {
    case CagePassOptionBool:
      slot.b = std::make_unique<BoolOption>(parent, o.argument, desc,
                                            llvm::cl::init(o.defaultValue.b));
      break;
    case CagePassOptionInt:
      slot.i = std::make_unique<IntOption>(parent, o.argument, desc,
                                           llvm::cl::init(o.defaultValue.i));
      break;
    case CagePassOptionDouble:
      slot.d = std::make_unique<DoubleOption>(parent, o.argument, desc,
                                              llvm::cl::init(o.defaultValue.d));
      break;
    case CagePassOptionString:
      slot.s = std::make_unique<StringOption>(
          parent, o.argument, desc,
          llvm::cl::init(
              std::string(o.defaultValue.s ? o.defaultValue.s : "")));
      break;
    }
    slots.push_back(std::move(slot));
  }

  std::vector<Slot> slots;
};

} // namespace cage

#endif // CAGE_LIB_PASS_OPTIONS_H
