// Atoms shared by the actors' typed interfaces (CAF 0.17: at most 10 characters each).
#pragma once

#include <caf/atom.hpp>

namespace actormq::actors {

using ack_atom = caf::atom_constant<caf::atom("ack")>;
using auto_ack_atom = caf::atom_constant<caf::atom("autoack")>;
using acquired_atom = caf::atom_constant<caf::atom("acquired")>;
using checkpoint_atom = caf::atom_constant<caf::atom("checkpoint")>;
using browse_atom = caf::atom_constant<caf::atom("browse")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using nack_atom = caf::atom_constant<caf::atom("nack")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
using refused_atom = caf::atom_constant<caf::atom("refused")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;
using waiting_atom = caf::atom_constant<caf::atom("waiting")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using link_atom = caf::atom_constant<caf::atom("link")>;
using forward_atom = caf::atom_constant<caf::atom("forward")>;
using fwd_ack_atom = caf::atom_constant<caf::atom("fwdack")>;
using demand_atom = caf::atom_constant<caf::atom("demand")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using handover_atom = caf::atom_constant<caf::atom("handover")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
using created_atom = caf::atom_constant<caf::atom("created")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using enqueue_atom = caf::atom_constant<caf::atom("enqueue")>;
using client_atom = caf::atom_constant<caf::atom("client")>;
// The scheduler (scheduler.hpp).
using schedule_atom = caf::atom_constant<caf::atom("schedule")>;
using due_atom = caf::atom_constant<caf::atom("due")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
// Composite, wildcard and temporary destinations.
using target_atom = caf::atom_constant<caf::atom("target")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using temp_atom = caf::atom_constant<caf::atom("temp")>;
// Local transactions (transaction.hpp).
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using txn_put_atom = caf::atom_constant<caf::atom("txnput")>;
using txn_ack_atom = caf::atom_constant<caf::atom("txnack")>;
using txn_done_atom = caf::atom_constant<caf::atom("txndone")>;
using relocate_atom = caf::atom_constant<caf::atom("relocate")>;
using relocated_atom = caf::atom_constant<caf::atom("relocated")>;
using redeliver_atom = caf::atom_constant<caf::atom("redeliver")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
// Flow control: the store holds sends until it has room (store_actor.hpp); a held send's
// timeout may have passed (sent to itself by the store and by a queue).
using store_full_atom = caf::atom_constant<caf::atom("storefull")>;
using held_atom = caf::atom_constant<caf::atom("held")>;

} // namespace actormq::actors
