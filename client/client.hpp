// The ActorMQ C++ client library in one include.
#pragma once

#include "client/connection.hpp"
#include "client/consumer.hpp"
#include "client/error.hpp"
#include "client/message.hpp"
#include "client/producer.hpp"
#include "client/transport.hpp"
