//! `COMMAND DOCS` data of Redis Sentinel 7.0.15 (summary, since, group, complexity, history,
//! arguments), reproduced from the reference binary's reply so clients such as `redis-cli`
//! get the same hints; the entries of newer versions (`client|setinfo`, Valkey's
//! primary-named `sentinel` subcommands) as valkey-sentinel 8.1 gives them.

use super::spec::Doc::{self, L, M, S, T};

pub(super) static DOCS: [(&str, Doc); 15] = [
    ("publish", M(&[
        ("summary", S("Post a message to a channel")),
        ("since", S("2.0.0")),
        ("group", S("pubsub")),
        ("complexity", S("O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).")),
        ("arguments", L(&[
            M(&[
                ("name", S("channel")),
                ("type", S("string")),
            ]),
            M(&[
                ("name", S("message")),
                ("type", S("string")),
            ]),
        ])),
    ])),
    ("psubscribe", M(&[
        ("summary", S("Listen for messages published to channels matching the given patterns")),
        ("since", S("2.0.0")),
        ("group", S("pubsub")),
        ("complexity", S("O(N) where N is the number of patterns the client is already subscribed to.")),
        ("arguments", L(&[
            M(&[
                ("name", S("pattern")),
                ("type", S("block")),
                ("flags", L(&[
                    T("multiple"),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("pattern")),
                        ("type", S("pattern")),
                    ]),
                ])),
            ]),
        ])),
    ])),
    ("auth", M(&[
        ("summary", S("Authenticate to the server")),
        ("since", S("1.0.0")),
        ("group", S("connection")),
        ("complexity", S("O(N) where N is the number of passwords defined for the user")),
        ("history", L(&[
            L(&[
                S("6.0.0"),
                S("Added ACL style (username and password)."),
            ]),
        ])),
        ("arguments", L(&[
            M(&[
                ("name", S("username")),
                ("type", S("string")),
                ("since", S("6.0.0")),
                ("flags", L(&[
                    T("optional"),
                ])),
            ]),
            M(&[
                ("name", S("password")),
                ("type", S("string")),
            ]),
        ])),
    ])),
    ("hello", M(&[
        ("summary", S("Handshake with Redis")),
        ("since", S("6.0.0")),
        ("group", S("connection")),
        ("complexity", S("O(1)")),
        ("history", L(&[
            L(&[
                S("6.2.0"),
                S("`protover` made optional; when called without arguments the command reports the current connection's context."),
            ]),
        ])),
        ("arguments", L(&[
            M(&[
                ("name", S("arguments")),
                ("type", S("block")),
                ("flags", L(&[
                    T("optional"),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("protover")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("username_password")),
                        ("type", S("block")),
                        ("token", S("AUTH")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("username")),
                                ("type", S("string")),
                            ]),
                            M(&[
                                ("name", S("password")),
                                ("type", S("string")),
                            ]),
                        ])),
                    ]),
                    M(&[
                        ("name", S("clientname")),
                        ("type", S("string")),
                        ("token", S("SETNAME")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                ])),
            ]),
        ])),
    ])),
    ("acl", M(&[
        ("summary", S("A container for Access List Control commands ")),
        ("since", S("6.0.0")),
        ("group", S("server")),
        ("complexity", S("Depends on subcommand.")),
        ("subcommands", M(&[
            ("acl|help", M(&[
                ("summary", S("Show helpful text about the different subcommands")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1)")),
            ])),
            ("acl|getuser", M(&[
                ("summary", S("Get the rules for a specific ACL user")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of password, command and pattern rules that the user has.")),
                ("history", L(&[
                    L(&[
                        S("6.2.0"),
                        S("Added Pub/Sub channel patterns."),
                    ]),
                    L(&[
                        S("7.0.0"),
                        S("Added selectors and changed the format of key and channel patterns from a list to their rule representation."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("username")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("acl|genpass", M(&[
                ("summary", S("Generate a pseudorandom secure password to use for ACL users")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("bits")),
                        ("type", S("integer")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|load", M(&[
                ("summary", S("Reload the ACLs from the configured ACL file")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of configured users.")),
            ])),
            ("acl|deluser", M(&[
                ("summary", S("Remove the specified ACL users and the associated rules")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1) amortized time considering the typical user.")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("username")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|users", M(&[
                ("summary", S("List the username of all the configured ACL rules")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of configured users.")),
            ])),
            ("acl|cat", M(&[
                ("summary", S("List the ACL categories or the commands inside a category")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1) since the categories and commands are a fixed set.")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("categoryname")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|list", M(&[
                ("summary", S("List the current ACL rules in ACL config file format")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of configured users.")),
            ])),
            ("acl|log", M(&[
                ("summary", S("List latest events denied because of ACLs in place")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N) with N being the number of entries shown.")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("operation")),
                        ("type", S("oneof")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("count")),
                                ("type", S("integer")),
                            ]),
                            M(&[
                                ("name", S("reset")),
                                ("type", S("pure-token")),
                                ("token", S("RESET")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|dryrun", M(&[
                ("summary", S("Returns whether the user can execute the given command without executing the command.")),
                ("since", S("7.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1).")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("username")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("command")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("arg")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|setuser", M(&[
                ("summary", S("Modify or create the rules for a specific ACL user")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of rules provided.")),
                ("history", L(&[
                    L(&[
                        S("6.2.0"),
                        S("Added Pub/Sub channel patterns."),
                    ]),
                    L(&[
                        S("7.0.0"),
                        S("Added selectors and key based permissions."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("username")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("rule")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
            ("acl|save", M(&[
                ("summary", S("Save the current ACL rules in the configured ACL file")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N). Where N is the number of configured users.")),
            ])),
            ("acl|whoami", M(&[
                ("summary", S("Return the name of the user associated to the current connection")),
                ("since", S("6.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1)")),
            ])),
        ])),
    ])),
    ("punsubscribe", M(&[
        ("summary", S("Stop listening for messages posted to channels matching the given patterns")),
        ("since", S("2.0.0")),
        ("group", S("pubsub")),
        ("complexity", S("O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).")),
        ("arguments", L(&[
            M(&[
                ("name", S("pattern")),
                ("type", S("pattern")),
                ("flags", L(&[
                    T("optional"),
                    T("multiple"),
                ])),
            ]),
        ])),
    ])),
    ("client", M(&[
        ("summary", S("A container for client connection commands")),
        ("since", S("2.4.0")),
        ("group", S("connection")),
        ("complexity", S("Depends on subcommand.")),
        ("subcommands", M(&[
            ("client|trackinginfo", M(&[
                ("summary", S("Return information about server assisted client side caching for the current connection")),
                ("since", S("6.2.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|help", M(&[
                ("summary", S("Show helpful text about the different subcommands")),
                ("since", S("5.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|tracking", M(&[
                ("summary", S("Enable or disable server assisted client side caching support")),
                ("since", S("6.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1). Some options may introduce additional complexity.")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("status")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("on")),
                                ("type", S("pure-token")),
                                ("token", S("ON")),
                            ]),
                            M(&[
                                ("name", S("off")),
                                ("type", S("pure-token")),
                                ("token", S("OFF")),
                            ]),
                        ])),
                    ]),
                    M(&[
                        ("name", S("client-id")),
                        ("type", S("integer")),
                        ("token", S("REDIRECT")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                    M(&[
                        ("name", S("prefix")),
                        ("type", S("string")),
                        ("token", S("PREFIX")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                            T("multiple_token"),
                        ])),
                    ]),
                    M(&[
                        ("name", S("bcast")),
                        ("type", S("pure-token")),
                        ("token", S("BCAST")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                    M(&[
                        ("name", S("optin")),
                        ("type", S("pure-token")),
                        ("token", S("OPTIN")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                    M(&[
                        ("name", S("optout")),
                        ("type", S("pure-token")),
                        ("token", S("OPTOUT")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                    M(&[
                        ("name", S("noloop")),
                        ("type", S("pure-token")),
                        ("token", S("NOLOOP")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                    ]),
                ])),
            ])),
            ("client|id", M(&[
                ("summary", S("Returns the client ID for the current connection")),
                ("since", S("5.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|kill", M(&[
                ("summary", S("Kill the connection of a client")),
                ("since", S("2.4.0")),
                ("group", S("connection")),
                ("complexity", S("O(N) where N is the number of client connections")),
                ("history", L(&[
                    L(&[
                        S("2.8.12"),
                        S("Added new filter format."),
                    ]),
                    L(&[
                        S("2.8.12"),
                        S("`ID` option."),
                    ]),
                    L(&[
                        S("3.2.0"),
                        S("Added `master` type in for `TYPE` option."),
                    ]),
                    L(&[
                        S("5.0.0"),
                        S("Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."),
                    ]),
                    L(&[
                        S("6.2.0"),
                        S("`LADDR` option."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("filter")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("ip:port")),
                                ("type", S("string")),
                                ("deprecated_since", S("2.8.12")),
                            ]),
                            M(&[
                                ("name", S("new-format")),
                                ("type", S("oneof")),
                                ("flags", L(&[
                                    T("multiple"),
                                ])),
                                ("arguments", L(&[
                                    M(&[
                                        ("name", S("client-id")),
                                        ("type", S("integer")),
                                        ("token", S("ID")),
                                        ("since", S("2.8.12")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                    ]),
                                    M(&[
                                        ("name", S("normal_master_slave_pubsub")),
                                        ("type", S("oneof")),
                                        ("token", S("TYPE")),
                                        ("since", S("2.8.12")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                        ("arguments", L(&[
                                            M(&[
                                                ("name", S("normal")),
                                                ("type", S("pure-token")),
                                                ("token", S("NORMAL")),
                                            ]),
                                            M(&[
                                                ("name", S("master")),
                                                ("type", S("pure-token")),
                                                ("token", S("MASTER")),
                                                ("since", S("3.2.0")),
                                            ]),
                                            M(&[
                                                ("name", S("slave")),
                                                ("type", S("pure-token")),
                                                ("token", S("SLAVE")),
                                            ]),
                                            M(&[
                                                ("name", S("replica")),
                                                ("type", S("pure-token")),
                                                ("token", S("REPLICA")),
                                                ("since", S("5.0.0")),
                                            ]),
                                            M(&[
                                                ("name", S("pubsub")),
                                                ("type", S("pure-token")),
                                                ("token", S("PUBSUB")),
                                            ]),
                                        ])),
                                    ]),
                                    M(&[
                                        ("name", S("username")),
                                        ("type", S("string")),
                                        ("token", S("USER")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                    ]),
                                    M(&[
                                        ("name", S("ip:port")),
                                        ("type", S("string")),
                                        ("token", S("ADDR")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                    ]),
                                    M(&[
                                        ("name", S("ip:port")),
                                        ("type", S("string")),
                                        ("token", S("LADDR")),
                                        ("since", S("6.2.0")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                    ]),
                                    M(&[
                                        ("name", S("yes/no")),
                                        ("type", S("string")),
                                        ("token", S("SKIPME")),
                                        ("flags", L(&[
                                            T("optional"),
                                        ])),
                                    ]),
                                ])),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|unblock", M(&[
                ("summary", S("Unblock a client blocked in a blocking command from a different connection")),
                ("since", S("5.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(log N) where N is the number of client connections")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("client-id")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("timeout_error")),
                        ("type", S("oneof")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("timeout")),
                                ("type", S("pure-token")),
                                ("token", S("TIMEOUT")),
                            ]),
                            M(&[
                                ("name", S("error")),
                                ("type", S("pure-token")),
                                ("token", S("ERROR")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|unpause", M(&[
                ("summary", S("Resume processing of clients that were paused")),
                ("since", S("6.2.0")),
                ("group", S("connection")),
                ("complexity", S("O(N) Where N is the number of paused clients")),
            ])),
            ("client|setname", M(&[
                ("summary", S("Set the current connection name")),
                ("since", S("2.6.9")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("connection-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("client|no-evict", M(&[
                ("summary", S("Set client eviction mode for the current connection")),
                ("since", S("7.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("enabled")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("on")),
                                ("type", S("pure-token")),
                                ("token", S("ON")),
                            ]),
                            M(&[
                                ("name", S("off")),
                                ("type", S("pure-token")),
                                ("token", S("OFF")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|info", M(&[
                ("summary", S("Returns information about the current client connection.")),
                ("since", S("6.2.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|pause", M(&[
                ("summary", S("Stop processing commands from clients for some time")),
                ("since", S("2.9.50")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("history", L(&[
                    L(&[
                        S("6.2.0"),
                        S("`CLIENT PAUSE WRITE` mode added along with the `mode` option."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("timeout")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("mode")),
                        ("type", S("oneof")),
                        ("since", S("6.2.0")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("write")),
                                ("type", S("pure-token")),
                                ("token", S("WRITE")),
                            ]),
                            M(&[
                                ("name", S("all")),
                                ("type", S("pure-token")),
                                ("token", S("ALL")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|getredir", M(&[
                ("summary", S("Get tracking notifications redirection client ID if any")),
                ("since", S("6.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|caching", M(&[
                ("summary", S("Instruct the server about tracking or not keys in the next request")),
                ("since", S("6.0.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("mode")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("yes")),
                                ("type", S("pure-token")),
                                ("token", S("YES")),
                            ]),
                            M(&[
                                ("name", S("no")),
                                ("type", S("pure-token")),
                                ("token", S("NO")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|getname", M(&[
                ("summary", S("Get the current connection name")),
                ("since", S("2.6.9")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
            ])),
            ("client|list", M(&[
                ("summary", S("Get the list of client connections")),
                ("since", S("2.4.0")),
                ("group", S("connection")),
                ("complexity", S("O(N) where N is the number of client connections")),
                ("history", L(&[
                    L(&[
                        S("2.8.12"),
                        S("Added unique client `id` field."),
                    ]),
                    L(&[
                        S("5.0.0"),
                        S("Added optional `TYPE` filter."),
                    ]),
                    L(&[
                        S("6.0.0"),
                        S("Added `user` field."),
                    ]),
                    L(&[
                        S("6.2.0"),
                        S("Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."),
                    ]),
                    L(&[
                        S("7.0.0"),
                        S("Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                    ]),
                    L(&[
                        S("7.0.3"),
                        S("Added `ssub` field."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("normal_master_replica_pubsub")),
                        ("type", S("oneof")),
                        ("token", S("TYPE")),
                        ("since", S("5.0.0")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("normal")),
                                ("type", S("pure-token")),
                                ("token", S("NORMAL")),
                            ]),
                            M(&[
                                ("name", S("master")),
                                ("type", S("pure-token")),
                                ("token", S("MASTER")),
                            ]),
                            M(&[
                                ("name", S("replica")),
                                ("type", S("pure-token")),
                                ("token", S("REPLICA")),
                            ]),
                            M(&[
                                ("name", S("pubsub")),
                                ("type", S("pure-token")),
                                ("token", S("PUBSUB")),
                            ]),
                        ])),
                    ]),
                    M(&[
                        ("name", S("id")),
                        ("type", S("block")),
                        ("token", S("ID")),
                        ("since", S("6.2.0")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("client-id")),
                                ("type", S("integer")),
                                ("flags", L(&[
                                    T("multiple"),
                                ])),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|reply", M(&[
                ("summary", S("Instruct the server whether to reply to commands")),
                ("since", S("3.2.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("on_off_skip")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("on")),
                                ("type", S("pure-token")),
                                ("token", S("ON")),
                            ]),
                            M(&[
                                ("name", S("off")),
                                ("type", S("pure-token")),
                                ("token", S("OFF")),
                            ]),
                            M(&[
                                ("name", S("skip")),
                                ("type", S("pure-token")),
                                ("token", S("SKIP")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("client|setinfo", M(&[
                ("summary", S("Sets information specific to the client or connection.")),
                ("since", S("7.2.0")),
                ("group", S("connection")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("attr")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("libname")),
                                ("type", S("string")),
                                ("display_text", S("libname")),
                                ("token", S("LIB-NAME")),
                            ]),
                            M(&[
                                ("name", S("libver")),
                                ("type", S("string")),
                                ("display_text", S("libver")),
                                ("token", S("LIB-VER")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
        ])),
    ])),
    ("info", M(&[
        ("summary", S("Get information and statistics about the server")),
        ("since", S("1.0.0")),
        ("group", S("server")),
        ("complexity", S("O(1)")),
        ("history", L(&[
            L(&[
                S("7.0.0"),
                S("Added support for taking multiple section arguments."),
            ]),
        ])),
        ("arguments", L(&[
            M(&[
                ("name", S("section")),
                ("type", S("string")),
                ("flags", L(&[
                    T("optional"),
                    T("multiple"),
                ])),
            ]),
        ])),
    ])),
    ("unsubscribe", M(&[
        ("summary", S("Stop listening for messages posted to the given channels")),
        ("since", S("2.0.0")),
        ("group", S("pubsub")),
        ("complexity", S("O(N) where N is the number of clients already subscribed to a channel.")),
        ("arguments", L(&[
            M(&[
                ("name", S("channel")),
                ("type", S("string")),
                ("flags", L(&[
                    T("optional"),
                    T("multiple"),
                ])),
            ]),
        ])),
    ])),
    ("ping", M(&[
        ("summary", S("Ping the server")),
        ("since", S("1.0.0")),
        ("group", S("connection")),
        ("complexity", S("O(1)")),
        ("arguments", L(&[
            M(&[
                ("name", S("message")),
                ("type", S("string")),
                ("flags", L(&[
                    T("optional"),
                ])),
            ]),
        ])),
    ])),
    ("role", M(&[
        ("summary", S("Return the role of the instance in the context of replication")),
        ("since", S("2.8.12")),
        ("group", S("server")),
        ("complexity", S("O(1)")),
    ])),
    ("command", M(&[
        ("summary", S("Get array of Redis command details")),
        ("since", S("2.8.13")),
        ("group", S("server")),
        ("complexity", S("O(N) where N is the total number of Redis commands")),
        ("subcommands", M(&[
            ("command|docs", M(&[
                ("summary", S("Get array of specific Redis command documentation")),
                ("since", S("7.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N) where N is the number of commands to look up")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("command-name")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
            ("command|help", M(&[
                ("summary", S("Show helpful text about the different subcommands")),
                ("since", S("5.0.0")),
                ("group", S("server")),
                ("complexity", S("O(1)")),
            ])),
            ("command|getkeys", M(&[
                ("summary", S("Extract keys given a full Redis command")),
                ("since", S("2.8.13")),
                ("group", S("server")),
                ("complexity", S("O(N) where N is the number of arguments to the command")),
            ])),
            ("command|list", M(&[
                ("summary", S("Get an array of Redis command names")),
                ("since", S("7.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N) where N is the total number of Redis commands")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("filterby")),
                        ("type", S("oneof")),
                        ("token", S("FILTERBY")),
                        ("flags", L(&[
                            T("optional"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("module-name")),
                                ("type", S("string")),
                                ("token", S("MODULE")),
                            ]),
                            M(&[
                                ("name", S("category")),
                                ("type", S("string")),
                                ("token", S("ACLCAT")),
                            ]),
                            M(&[
                                ("name", S("pattern")),
                                ("type", S("pattern")),
                                ("token", S("PATTERN")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("command|getkeysandflags", M(&[
                ("summary", S("Extract keys and access flags given a full Redis command")),
                ("since", S("7.0.0")),
                ("group", S("server")),
                ("complexity", S("O(N) where N is the number of arguments to the command")),
            ])),
            ("command|count", M(&[
                ("summary", S("Get total number of Redis commands")),
                ("since", S("2.8.13")),
                ("group", S("server")),
                ("complexity", S("O(1)")),
            ])),
            ("command|info", M(&[
                ("summary", S("Get array of specific Redis command details, or all when no argument is given.")),
                ("since", S("2.8.13")),
                ("group", S("server")),
                ("complexity", S("O(N) where N is the number of commands to look up")),
                ("history", L(&[
                    L(&[
                        S("7.0.0"),
                        S("Allowed to be called with no argument to get info on all commands."),
                    ]),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("command-name")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
        ])),
    ])),
    ("sentinel", M(&[
        ("summary", S("A container for Sentinel commands")),
        ("since", S("2.8.4")),
        ("group", S("sentinel")),
        ("complexity", S("Depends on subcommand.")),
        ("subcommands", M(&[
            ("sentinel|info-cache", M(&[
                ("summary", S("Get cached INFO from the instances in the deployment")),
                ("since", S("3.2.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of instances")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("nodename")),
                        ("type", S("string")),
                        ("flags", L(&[
                            T("multiple"),
                        ])),
                    ]),
                ])),
            ])),
            ("sentinel|is-master-down-by-addr", M(&[
                ("summary", S("Check if a master is down")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("ip")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("port")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("current-epoch")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("runid")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|monitor", M(&[
                ("summary", S("Start monitoring")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("name")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("ip")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("port")),
                        ("type", S("integer")),
                    ]),
                    M(&[
                        ("name", S("quorum")),
                        ("type", S("integer")),
                    ]),
                ])),
            ])),
            ("sentinel|flushconfig", M(&[
                ("summary", S("Rewrite configuration file")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
            ])),
            ("sentinel|masters", M(&[
                ("summary", S("List the monitored masters")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of masters")),
            ])),
            ("sentinel|failover", M(&[
                ("summary", S("Force a failover")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|master", M(&[
                ("summary", S("Shows the state of a master")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|debug", M(&[
                ("summary", S("List or update the current configurable parameters")),
                ("since", S("7.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of configurable parameters")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("parameter_value")),
                        ("type", S("block")),
                        ("flags", L(&[
                            T("multiple"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("parameter")),
                                ("type", S("string")),
                            ]),
                            M(&[
                                ("name", S("value")),
                                ("type", S("string")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("sentinel|ckquorum", M(&[
                ("summary", S("Check for a Sentinel quorum")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|slaves", M(&[
                ("summary", S("List the monitored slaves")),
                ("since", S("2.8.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of slaves")),
                ("doc_flags", L(&[
                    T("deprecated"),
                ])),
                ("deprecated_since", S("5.0.0")),
                ("replaced_by", S("`SENTINEL REPLICAS`")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|reset", M(&[
                ("summary", S("Reset masters by name pattern")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of monitored masters")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("pattern")),
                        ("type", S("pattern")),
                    ]),
                ])),
            ])),
            ("sentinel|help", M(&[
                ("summary", S("Show helpful text about the different subcommands")),
                ("since", S("6.2.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
            ])),
            ("sentinel|get-master-addr-by-name", M(&[
                ("summary", S("Get port and address of a master")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|simulate-failure", M(&[
                ("summary", S("Simulate failover scenarios")),
                ("since", S("3.2.0")),
                ("group", S("sentinel")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("mode")),
                        ("type", S("oneof")),
                        ("flags", L(&[
                            T("optional"),
                            T("multiple"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("crash-after-election")),
                                ("type", S("pure-token")),
                            ]),
                            M(&[
                                ("name", S("crash-after-promotion")),
                                ("type", S("pure-token")),
                            ]),
                            M(&[
                                ("name", S("help")),
                                ("type", S("pure-token")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("sentinel|myid", M(&[
                ("summary", S("Get the Sentinel instance ID")),
                ("since", S("6.2.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
            ])),
            ("sentinel|pending-scripts", M(&[
                ("summary", S("Get information about pending scripts")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
            ])),
            ("sentinel|remove", M(&[
                ("summary", S("Stop monitoring")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|replicas", M(&[
                ("summary", S("List the monitored replicas")),
                ("since", S("5.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of replicas")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|set", M(&[
                ("summary", S("Change the configuration of a monitored master")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                    M(&[
                        ("name", S("option_value")),
                        ("type", S("block")),
                        ("flags", L(&[
                            T("multiple"),
                        ])),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("option")),
                                ("type", S("string")),
                            ]),
                            M(&[
                                ("name", S("value")),
                                ("type", S("string")),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("sentinel|config", M(&[
                ("summary", S("Configure Sentinel")),
                ("since", S("6.2.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("set_or_get")),
                        ("type", S("oneof")),
                        ("arguments", L(&[
                            M(&[
                                ("name", S("set_param_value")),
                                ("type", S("block")),
                                ("token", S("SET")),
                                ("flags", L(&[
                                    T("multiple"),
                                ])),
                                ("arguments", L(&[
                                    M(&[
                                        ("name", S("parameter")),
                                        ("type", S("string")),
                                    ]),
                                    M(&[
                                        ("name", S("value")),
                                        ("type", S("string")),
                                    ]),
                                ])),
                            ]),
                            M(&[
                                ("name", S("parameter")),
                                ("type", S("string")),
                                ("token", S("GET")),
                                ("flags", L(&[
                                    T("multiple"),
                                ])),
                            ]),
                        ])),
                    ]),
                ])),
            ])),
            ("sentinel|sentinels", M(&[
                ("summary", S("List the Sentinel instances")),
                ("since", S("2.8.4")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of Sentinels")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("master-name")),
                        ("type", S("string")),
                    ]),
                ])),
            ])),
            ("sentinel|primaries", M(&[
                ("summary", S("Returns a list of monitored primaries.")),
                ("since", S("8.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(N) where N is the number of primaries")),
            ])),
            ("sentinel|primary", M(&[
                ("summary", S("Returns the state of a primary instance.")),
                ("since", S("8.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("primary-name")),
                        ("type", S("string")),
                        ("display_text", S("primary-name")),
                    ]),
                ])),
            ])),
            ("sentinel|get-primary-addr-by-name", M(&[
                ("summary", S("Returns the port and address of a primary instance.")),
                ("since", S("8.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("primary-name")),
                        ("type", S("string")),
                        ("display_text", S("primary-name")),
                    ]),
                ])),
            ])),
            ("sentinel|is-primary-down-by-addr", M(&[
                ("summary", S("Determines whether a primary instance is down.")),
                ("since", S("8.0.0")),
                ("group", S("sentinel")),
                ("complexity", S("O(1)")),
                ("arguments", L(&[
                    M(&[
                        ("name", S("ip")),
                        ("type", S("string")),
                        ("display_text", S("ip")),
                    ]),
                    M(&[
                        ("name", S("port")),
                        ("type", S("integer")),
                        ("display_text", S("port")),
                    ]),
                    M(&[
                        ("name", S("current-epoch")),
                        ("type", S("integer")),
                        ("display_text", S("current-epoch")),
                    ]),
                    M(&[
                        ("name", S("runid")),
                        ("type", S("string")),
                        ("display_text", S("runid")),
                    ]),
                ])),
            ])),
        ])),
    ])),
    ("shutdown", M(&[
        ("summary", S("Synchronously save the dataset to disk and then shut down the server")),
        ("since", S("1.0.0")),
        ("group", S("server")),
        ("complexity", S("O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)")),
        ("history", L(&[
            L(&[
                S("7.0.0"),
                S("Added the `NOW`, `FORCE` and `ABORT` modifiers."),
            ]),
        ])),
        ("arguments", L(&[
            M(&[
                ("name", S("nosave_save")),
                ("type", S("oneof")),
                ("flags", L(&[
                    T("optional"),
                ])),
                ("arguments", L(&[
                    M(&[
                        ("name", S("nosave")),
                        ("type", S("pure-token")),
                        ("token", S("NOSAVE")),
                    ]),
                    M(&[
                        ("name", S("save")),
                        ("type", S("pure-token")),
                        ("token", S("SAVE")),
                    ]),
                ])),
            ]),
            M(&[
                ("name", S("now")),
                ("type", S("pure-token")),
                ("token", S("NOW")),
                ("since", S("7.0.0")),
                ("flags", L(&[
                    T("optional"),
                ])),
            ]),
            M(&[
                ("name", S("force")),
                ("type", S("pure-token")),
                ("token", S("FORCE")),
                ("since", S("7.0.0")),
                ("flags", L(&[
                    T("optional"),
                ])),
            ]),
            M(&[
                ("name", S("abort")),
                ("type", S("pure-token")),
                ("token", S("ABORT")),
                ("since", S("7.0.0")),
                ("flags", L(&[
                    T("optional"),
                ])),
            ]),
        ])),
    ])),
    ("subscribe", M(&[
        ("summary", S("Listen for messages published to the given channels")),
        ("since", S("2.0.0")),
        ("group", S("pubsub")),
        ("complexity", S("O(N) where N is the number of channels to subscribe to.")),
        ("arguments", L(&[
            M(&[
                ("name", S("channel")),
                ("type", S("string")),
                ("flags", L(&[
                    T("multiple"),
                ])),
            ]),
        ])),
    ])),
];
