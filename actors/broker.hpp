// The broker actor: the destination registry. Spawns a queue actor per queue (the recovered
// ones at start, new ones on first use) and a topic actor per topic (on first use; topics are
// not stored), linked to itself so that a destination actor's death stops the node; gathers
// destination statistics.
#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/queue.hpp"
#include "actors/store_actor.hpp"
#include "actors/topic.hpp"
#include "config/defaults.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/redelivery_policy.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace actormq::actors {

// A watcher of this node's consumer demand (a bridge's inbound side, for the peer's bridge):
// told (demand_atom, demand_update) of every change of a destination's local consumer count.
using demand_watcher_actor = caf::typed_actor<caf::reacts_to<demand_atom, demand_update>>;

// A listener for new destinations (a bridge with statically included wildcards): told
// (created_atom, destination URI) of every destination created.
using creation_listener_actor = caf::typed_actor<caf::reacts_to<created_atom, std::string>>;

using broker_actor = caf::typed_actor<
    // The actor of a queue or topic (a topic answers the queue's interface, topic.hpp), created
    // on first use. Temporary destinations are refused (bad destination, naming the kind).
    caf::replies_to<lookup_atom, protocol::destination>::with<queue_actor>,
    // Statistics of every destination.
    caf::replies_to<stats_atom>::with<destination_stats_list>,
    // A queue's local consumer count changed (from the queue).
    caf::reacts_to<demand_atom, std::string, uint32_t>,
    // A queue moves a message to another queue (a dead letter, a retry): it goes to that
    // queue, created if need be; if it cannot, the source queue is told it did not move.
    caf::reacts_to<relocate_atom, std::string, relocation>,
    // A bridge's inbound side wants the demand: answers the current demand, then tells the
    // watcher of every change until it goes down.
    caf::replies_to<watch_atom, demand_watcher_actor>::with<demand_list>,
    // A bridge with statically included wildcards: told of every destination created from now
    // on, until it goes down.
    caf::reacts_to<listen_atom, creation_listener_actor>,
    // Removes a destination: its queue stops, its messages and record are deleted; answers how
    // many messages went.
    caf::replies_to<remove_atom, std::string>::with<uint64_t>,
    // The queue of a durable subscription of a topic (client id, subscription name, selector
    // or empty), created with its store record on first use; the session subscribes to it as to
    // a queue. Another selector than the subscription's replaces it (JMS). Refused: not a topic,
    // a subscription of that name on another topic, one with an open consumer to replace.
    caf::replies_to<durable_atom, protocol::destination, std::string, std::string,
                    std::string>::with<queue_actor>,
    // Removes a durable subscription (client id, subscription name) and its messages; answers
    // how many messages went. Refused: no such subscription, or a consumer of it is open.
    caf::replies_to<unsub_atom, std::string, std::string>::with<uint64_t>,
    // A connection with a client id (client id, where it comes from, the session): answered
    // true, or refused while another connection of that client id is open (JMS). The id is
    // free again when that session ends.
    caf::replies_to<client_atom, std::string, std::string, caf::actor>::with<bool>,
    // Looks for durable subscriptions offline for longer than their timeout (sent to itself).
    caf::reacts_to<tick_atom>,
    // A consumer on a queue wildcard (a session): the queues that match the pattern now; the
    // listener is told (created_atom) of every queue created from now on, until it goes down.
    caf::replies_to<listen_atom, creation_listener_actor,
                    protocol::destination>::with<std::vector<std::string>>,
    // A temporary destination used by the connection that owns it (the session): created on
    // its first use, deleted with its messages when that session ends (or at the next start).
    // Refused: a temporary destination of that name owned by another session.
    caf::replies_to<temp_atom, protocol::destination, caf::actor>::with<queue_actor>,
    // Every queue and topic, for the inspector.
    caf::replies_to<list_atom>::with<std::vector<queue_actor>>,
    // The node stops: every queue hands its waiting writes to the store and ends; then the
    // broker ends.
    caf::reacts_to<stop_atom>, caf::replies_to<snapshot_atom>::with<broker_snapshot>>;

struct broker_settings {
  uint32_t max_destinations = config::default_max_destinations;
  uint64_t destination_memory_bytes = config::default_destination_memory_bytes;
  // Flow control (see queue_settings).
  bool send_fail_if_no_space = config::default_send_fail_if_no_space;
  std::chrono::milliseconds send_fail_after{config::default_send_fail_if_no_space_after_timeout_ms};
  uint64_t store_max_size_mb = config::default_store_max_size_mb;
  bool replay_when_no_consumers = config::default_replay_when_no_consumers;
  std::chrono::milliseconds replay_delay{config::default_replay_delay_ms};
  bool persist_redelivered = config::default_store_persist_redelivered; // see queue_settings
  std::chrono::milliseconds auto_ack_delay{
      config::default_store_auto_ack_delay_ms}; // see queue_settings
  uint64_t topic_subscriber_pending_messages =
      config::default_topic_subscriber_pending_messages; // see topic_settings
  slow_subscriber_policy slow_topic_subscriber = slow_subscriber_policy::block; // the same
  // Durable subscriptions without a consumer for this long are removed (0: never), checked
  // every offline_check (ActiveMQ's offlineDurableSubscriberTimeout and TaskSchedule).
  std::chrono::milliseconds offline_durable_timeout{
      config::default_offline_durable_subscriber_timeout_ms};
  std::chrono::milliseconds offline_check{
      config::default_offline_durable_subscriber_task_schedule_ms};
  // Virtual topics (ActiveMQ's): a topic whose name matches virtual_topic_name hands every
  // message to each queue named virtual_topic_consumer_prefix + its name ("Consumer.*." matches
  // queue://Consumer.a.VirtualTopic.Orders for topic://VirtualTopic.Orders). Empty name: none.
  std::string virtual_topic_name{config::default_virtual_topic_name};
  std::string virtual_topic_consumer_prefix{config::default_virtual_topic_consumer_prefix};
  // Redelivery, dead letters and expiry per queue (protocol::policy_for picks the entry).
  std::vector<protocol::destination_policy> policies{};
};

// A durable subscription as the broker knows it.
struct durable_entry {
  std::string store_name; // durable_name.hpp
  std::string topic;      // "topic://prices"
  queue_actor queue;
  // When the broker first saw it without a consumer (offline_durable_timeout); none: online.
  std::optional<std::chrono::steady_clock::time_point> offline_since;
};

// A connection that holds a client id.
struct client_holder {
  caf::actor_addr session;
  std::string peer;
};

struct broker_state {
  static inline const char* name = "broker";

  broker_settings settings;
  std::shared_ptr<storage::backend> db;
  store_actor store;
  // Queues and topics by destination URI ("queue://x", "topic://y"): the name the store,
  // stats and the console use.
  std::map<std::string, queue_actor> queues;
  std::map<std::string, std::vector<caf::typed_response_promise<queue_actor>>> creating;
  std::map<std::string, uint32_t> demand; // local consumers per destination
  std::set<demand_watcher_actor> demand_listeners;
  std::set<creation_listener_actor> creation_listeners;
  std::map<std::string, uint32_t> topic_ids; // topics with a store record (durable ones)
  std::map<std::pair<std::string, std::string>, durable_entry> durables; // by (client, name)
  std::map<std::string, client_holder> clients;                          // by client id
  std::map<std::string, std::vector<caf::typed_response_promise<queue_actor>>> creating_durables;
  // Wildcard topics by URI ("topic://prices.>"): every topic they match hands them its messages.
  std::map<std::string, protocol::destination_pattern> topic_patterns;
  std::optional<protocol::destination_pattern> virtual_topics; // settings.virtual_topic_name
  // Temporary destinations by URI: the session that owns them.
  struct temporary {
    caf::actor_addr owner;
    uint32_t destination_id = 0; // a temporary queue's store record (0: a temporary topic)
  };
  std::map<std::string, temporary> temporaries;
  // Temporary queues whose store record is being made, with their owner and who waits.
  struct creating_temporary {
    caf::actor_addr owner;
    bool owner_gone = false;
    std::vector<caf::typed_response_promise<queue_actor>> waiting;
  };
  std::map<std::string, creating_temporary> creating_temps;
};

// Parts of the broker in files of their own (broker_durable.cpp): durable subscriptions and
// client ids.
using broker_ptr = broker_actor::stateful_pointer<broker_state>;
// Starts the topics and durable subscriptions of the store at start (the other records are
// queues, started by the caller); returns the records it started.
std::set<uint32_t> recover_durables(broker_ptr self,
                                    const std::vector<storage::destination_record>& recovered);
caf::result<queue_actor> open_durable(broker_ptr self, const protocol::destination& topic,
                                      const std::string& client_id,
                                      const std::string& subscription_name,
                                      const std::string& selector);
caf::result<uint64_t> remove_durable(broker_ptr self, const std::string& client_id,
                                     const std::string& subscription_name);
caf::result<bool> hold_client_id(broker_ptr self, const std::string& client_id,
                                 const std::string& peer, const caf::actor& session);
// A session ended: its client id is free.
void release_client_id(broker_ptr self, const caf::actor_addr& session);
// Removes the durable subscriptions offline for longer than the timeout; schedules the next
// check.
void expire_offline_durables(broker_ptr self);
// broker.cpp: the actors of a topic and of a queue (a durable subscription's too).
queue_actor start_topic(broker_ptr self, const std::string& name, uint32_t destination_id);
queue_actor start_queue(broker_ptr self, const storage::destination_record& record,
                        bool durable = false);
// Parts in broker_routes.cpp: wildcard and virtual topics, queue wildcards, temporary
// destinations.
// What a topic hands its messages to from its start: the wildcard topics that match it and, for
// a virtual topic, its consumers' queues. A wildcard topic hands nothing on.
std::vector<topic_target> targets_of_topic(broker_ptr self, const std::string& name);
// A topic or queue started (after it is in state.queues): the topics that hand it messages are
// told.
void topic_started(broker_ptr self, const std::string& name, const queue_actor& topic);
void queue_started(broker_ptr self, const std::string& name, const queue_actor& queue);
// A destination was removed: the topics that handed it messages are told.
void destination_removed(broker_ptr self, const std::string& name);
std::vector<std::string> queues_matching(broker_ptr self, const protocol::destination& pattern);
caf::result<queue_actor> open_temporary(broker_ptr self, const protocol::destination& d,
                                        const caf::actor& owner);
// A session ended: its temporary destinations go.
void remove_temporaries_of(broker_ptr self, const caf::actor_addr& owner);
// Temporary destinations left in the store by a node that stopped or died: removed.
void remove_stale_temporaries(broker_ptr self,
                              const std::vector<storage::destination_record>& recovered);
bool is_temporary(const std::string& name);

// broker.cpp: a remove_record answer that goes to a requester.
std::function<void(uint64_t, caf::error)> deliver_to(caf::typed_response_promise<uint64_t> p);
// broker.cpp: removes a destination's record and messages; `done` gets the count, or 0 and
// the error.
void remove_record(broker_ptr self, const std::string& name, uint32_t id,
                   std::function<void(uint64_t, caf::error)> done);

broker_actor::behavior_type broker_behavior(broker_actor::stateful_pointer<broker_state> self,
                                            broker_settings settings,
                                            std::shared_ptr<storage::backend> db, store_actor store,
                                            std::vector<storage::destination_record> recovered);

} // namespace actormq::actors
