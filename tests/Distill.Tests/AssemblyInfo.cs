// Models are initialised from torch's global generator (as Hugging Face does), and several tests seed it to
// build identical models twice; test classes running in parallel would draw from it in between and make
// those tests flaky. One test at a time keeps every seeded construction deterministic.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
