// ThreadSanitizer builds only (--config=tsan): makes Debian's Abseil synchronization visible to
// TSan. libabsl_synchronization.so is built without TSan, so absl::Mutex, CondVar and
// Notification synchronize through atomics and futexes TSan never sees, and every field guarded
// by an absl::Mutex would be reported as a race. This file defines the out-of-line members our
// code (and gRPC, which locks absl::Mutex too) calls; each one calls the library's own
// definition (found with dlsym(RTLD_NEXT)) and tells TSan about the ordering it creates with
// __tsan_acquire / __tsan_release on the object's address. The linker prefers these definitions
// to the shared library's, and exports them to the libraries that call Abseil.
//
// It adds happens-before edges only; TSan's lock-order (deadlock) checks do not cover
// absl::Mutex. Real races on data no absl::Mutex guards are still reported.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/config.h"
#include "absl/base/macros.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

// Weak: --define=tsan=true also reaches host tools (built without TSan), where these are absent
// and the wrappers only forward.
extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace {

void Acquire(void* addr) {
  if (__tsan_acquire != nullptr) __tsan_acquire(addr);
}

void Release(void* addr) {
  if (__tsan_release != nullptr) __tsan_release(addr);
}

// "_ZN4absl<len><inline namespace>" + rest: Abseil's mangled names carry its inline namespace
// (Debian's is not the upstream lts_* one), so build them from the configured name.
template <typename Fn>
Fn Real(const char* prefix, const char* rest) {
  const std::string ns = ABSL_INTERNAL_TOKEN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string(prefix) + "4absl" + std::to_string(ns.size()) + ns + rest;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "absl_tsan_annotations: %s not found in the Abseil library\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

#define REAL(type, prefix, rest)                              \
  static const auto real = Real<type>(prefix, rest)

// Notification::HasBeenNotified() is inline: an acquire load of its flag in our (instrumented)
// code. Releasing on the flag's address before Notify() pairs with that load.
void* NotifiedFlag(const absl::Notification* n) {
  static_assert(sizeof(absl::Mutex) == 8 && sizeof(absl::Notification) == 16,
                "absl::Notification is {Mutex mutex_; std::atomic<bool> notified_yet_;}");
  return const_cast<char*>(reinterpret_cast<const char*>(n) + sizeof(absl::Mutex));
}

// Conditions run inside the library while it holds the mutex, possibly on the thread that is
// unlocking it: acquire before reading what the mutex guards, release after. The waiter releases
// on the wrapper itself once it is filled in, so whichever thread evaluates it may read it.
struct HeldCondition {
  const absl::Condition* condition;
  absl::Mutex* mu;
};

bool EvalHolding(HeldCondition* held) {
  Acquire(held);
  Acquire(held->mu);
  const bool met = held->condition->Eval();
  // The library may then give the mutex up without an Unlock we see (a waiter blocking again).
  Release(held->mu);
  return met;
}

}  // namespace

// `cond` wrapped so that its evaluation acquires `mu` first.
#define HELD(cond)                              \
  HeldCondition held{&(cond), this};            \
  const Condition annotated(&EvalHolding, &held); \
  Release(&held)

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  REAL(void (*)(Mutex*), "_ZN", "5Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "_ZN", "5Mutex6UnlockEv");
  Release(this);
  real(this);
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "_ZN", "5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "_ZN", "5Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "_ZN", "5Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

bool Mutex::ReaderTryLock() {
  REAL(bool (*)(Mutex*), "_ZN", "5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN", "5Mutex8LockWhenERKNS0_9ConditionE");
  HELD(cond);
  real(this, annotated);
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN", "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  HELD(cond);
  real(this, annotated);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration), "_ZN",
       "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  HELD(cond);
  const bool met = real(this, annotated, timeout);
  Acquire(this);  // held on return either way
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time), "_ZN",
       "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  HELD(cond);
  const bool met = real(this, annotated, deadline);
  Acquire(this);
  return met;
}

// Await releases the mutex while it waits and takes it back before returning.
void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN", "5Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  HELD(cond);
  real(this, annotated);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration), "_ZN",
       "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  HELD(cond);
  const bool met = real(this, annotated, timeout);
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time), "_ZN",
       "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  HELD(cond);
  const bool met = real(this, annotated, deadline);
  Acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), "_ZN", "7CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  REAL(bool (*)(CondVar*, Mutex*, Duration), "_ZN", "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, Time), "_ZN", "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

void Notification::Notify() {
  REAL(void (*)(Notification*), "_ZN", "12Notification6NotifyEv");
  Release(NotifiedFlag(this));
  real(this);
}

void Notification::WaitForNotification() const {
  REAL(void (*)(const Notification*), "_ZNK", "12Notification19WaitForNotificationEv");
  real(this);
  Acquire(NotifiedFlag(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  REAL(bool (*)(const Notification*, Duration), "_ZNK",
       "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) Acquire(NotifiedFlag(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  REAL(bool (*)(const Notification*, Time), "_ZNK",
       "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) Acquire(NotifiedFlag(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
