"""Provider baselines: a provider's named sets of policy settings, applied to many clients
at once through the policy services, and the drift of each client from what it was given.

models: policies.models (Baseline, BaselineAssignment, BaselineApplyJob).
"""
