// FedSource (pipeline/sources/namespace_source.hpp): a namespace's share of a stream, fed by the
// stream's reader on another thread. Its consumer must never take a stop for the namespace's end
// (that would finish a collection with part of its documents), and a full source must never
// leave its feeder blocked once the run stops or the consumer refuses it.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stop_token>
#include <thread>

#include "pipeline/sources/namespace_source.hpp"

namespace bsonpipe::pipeline {
namespace {

DocumentBatch batch(std::size_t count) {
  DocumentBatch b;
  b.data.assign(count, 0x11);
  b.count = count;
  return b;
}

TEST(FedSource, GivesEveryBatchInOrderThenTheEnd) {
  std::stop_source stop;
  FedSource src(1, stop.get_token());
  auto feeder = std::async(std::launch::async, [&] {
    for (std::size_t i = 1; i <= 5; ++i) {
      auto b = batch(i);
      if (!src.push(b)) return false;
      src.add_bytes(100);
    }
    src.end();
    return true;
  });
  for (std::size_t i = 1; i <= 5; ++i) {
    DocumentBatch b;
    auto r = src.next(b);
    ASSERT_TRUE(r.is_ok());
    ASSERT_EQ(*r, ReadResult::kBatch);
    EXPECT_EQ(b.count, i);
  }
  DocumentBatch b;
  auto r = src.next(b);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, ReadResult::kEnd);
  EXPECT_TRUE(feeder.get());
  EXPECT_EQ(src.take_bytes(), 500u);
  EXPECT_EQ(src.take_bytes(), 0u);
}

TEST(FedSource, AStopIsNeverTheEnd) {
  std::stop_source stop;
  FedSource src(1, stop.get_token());  // one batch: a slow-path build holds no more in any queue
  auto b1 = batch(1);
  ASSERT_TRUE(src.push(b1));
  src.end();  // the namespace ended, but the run stops before its batch was taken
  stop.request_stop();
  DocumentBatch b;
  auto r = src.next(b);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
}

TEST(FedSource, AConsumerWaitingForBatchesWakesOnTheStop) {
  std::stop_source stop;
  FedSource src(1, stop.get_token());
  auto consumer = std::async(std::launch::async, [&] {
    DocumentBatch b;
    return src.next(b);
  });
  EXPECT_EQ(consumer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  stop.request_stop();
  ASSERT_EQ(consumer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = consumer.get();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
}

TEST(FedSource, AFeederBlockedOnAFullSourceIsReleasedByRefuseOrStop) {
  for (bool by_refuse : {true, false}) {
    std::stop_source stop;
    FedSource src(1, stop.get_token());
    auto first = batch(1);
    ASSERT_TRUE(src.push(first));
    auto feeder = std::async(std::launch::async, [&] {
      auto b = batch(2);
      return src.push(b);  // the source is full: blocks
    });
    EXPECT_EQ(feeder.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    if (by_refuse)
      src.refuse();
    else
      stop.request_stop();
    ASSERT_EQ(feeder.wait_for(std::chrono::seconds(10)), std::future_status::ready) << by_refuse;
    EXPECT_FALSE(feeder.get()) << by_refuse;
    DocumentBatch b;
    auto r = src.next(b);
    ASSERT_FALSE(r.is_ok()) << by_refuse;
    EXPECT_EQ(r.status().code(), ErrorCode::kCancelled) << by_refuse;
  }
}

TEST(FedSource, AStopBeforeTheSourceExistsStillStopsIt) {
  std::stop_source stop;
  stop.request_stop();
  FedSource src(1, stop.get_token());
  auto b = batch(1);
  EXPECT_FALSE(src.push(b));
}

}  // namespace
}  // namespace bsonpipe::pipeline
