// bastionctl: the Bastion admin CLI (see cli.h); wiring only.
#include <iostream>
#include <string>
#include <vector>

#include "services/ctl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return bastion::ctl::RunCli(args, std::cin, std::cout, std::cerr, bastion::ctl::Env::FromProcess());
}
