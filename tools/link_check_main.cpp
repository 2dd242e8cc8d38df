int main() { return 0; }  // tools/link_check_main.cpp: see hpsearch_library() in CMakeLists.txt
