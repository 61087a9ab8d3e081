from ._common import SetProviderEnabledCommand


class Command(SetProviderEnabledCommand):
    help = "Enable a provider again, with the clients that were disabled together with it."
    enabled = True
