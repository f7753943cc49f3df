"""Load tests of a LoomMesh: the plan and thresholds (`plan`), the numbers (`stats`) and the generator (`run`)."""
