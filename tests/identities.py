"""The pseudonym and encryption keys of the tests that store users directly."""

from bot.identities import Identities, new_data_key

IDENTITIES = Identities("test-pseudonym-key-0123456789abcdef", [new_data_key()])
