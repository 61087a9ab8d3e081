from ._common import SetProviderEnabledCommand


class Command(SetProviderEnabledCommand):
    help = "Disable a provider and all its clients: nobody can use them until enabled again."
    enabled = False
