"""The lab's Kubernetes: an emulated control plane running real processes.

`python -m firstline.lab.cluster --api-port P --metrics-port M --state-dir D` runs, in one
process and one event loop:

Emulated (nothing of Kubernetes itself can run on the lab's machine):
- the API server: kmock's KubernetesEmulator on 127.0.0.1:P, real HTTP that the official
  client reaches through a kubeconfig (`api.write_kubeconfig`); `api.LabApiServer` adds what
  firstline needs and kmock lacks (dry-run, access reviews, pod logs, uid/generation);
- the Deployment and ReplicaSet controllers and the scheduler (`controller`, `workloads`):
  ReplicaSets per pod template with revisions, rolling updates (new pod first, old one
  stopped once the new one is ready; `Recreate` the other way round), pause, history, pods
  on the one node `lab-node`, Events;
- kube-state-metrics and cAdvisor (`metrics`): their series on 127.0.0.1:M/metrics, and
  Prometheus HTTP service discovery of the pods on /sd.

Real (`kubelet`, `processes`):
- every container is a local process (the command an image prefix maps to, see
  --image-command) in its own process group, with the container's env (values, ConfigMap and
  Secret references) and its output captured per instance (the pod log, `previous=true` too);
- exits: the exit code and reason land in lastState, and the container restarts with
  back-off (1 s doubling to 10 s, CrashLoopBackOff in between);
- memory: the resident memory of the container's process group, read from /proc every tick,
  above resources.limits.memory is SIGKILLed (OOMKilled, exit code 137, an OOMKilling event);
- readiness: GET /healthz on the container's port, answered by a socket the container owns;
  a container without a port is ready once it stayed up 2 s.

No container outlives the controller: it kills every group on SIGTERM/SIGINT, and each child
carries PR_SET_PDEATHSIG=SIGKILL, so the kernel kills it when the controller dies even by
SIGKILL. (What a container itself starts is killed with its group on a clean stop; after a
SIGKILL of the controller only the group leaders die by the kernel's hand, so a supervisor
should also kill the groups listed in <state-dir>/container-pids.json.)
"""
