// Stand-in for rocketrml's optional dependency xpath-iterator (a GitHub-only package): not available here.
throw new Error('xpath-iterator is not installed (rocketrml falls back to its JavaScript XML parser)');
